//! The record of one served kind: names, scope, verbs, printer columns, (for custom
//! resources) the schema, and the `Strategy` that owns the kind's own rules. Built-in kinds
//! (registered by their family in `crate::kinds`) and every served CRD version become one
//! `ResourceInfo`; discovery, OpenAPI, Table responses, routing and admission read from it.

use crate::error::{ApiError, Cause};
use crate::object_meta::NameRule;
use crate::store::{Bucket, Outcome};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::sync::Arc;

/// Every verb of a fully served kind.
pub(crate) const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One printer column, as in a CRD's `additionalPrinterColumns`.
#[derive(Clone, Debug, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    pub format: Option<String>,
    pub description: Option<String>,
    pub priority: i32,
    /// kubectl-style JSONPath, e.g. `.status.phase`.
    pub json_path: String,
}

/// A resource (kind + version) the server serves.
#[derive(Clone, Debug)]
pub struct ResourceInfo {
    /// API group; empty string for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    /// Lower-case plural used in URLs, e.g. `services`.
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
    /// Whether a `/status` subresource is served.
    pub status_subresource: bool,
    /// Printer columns beyond NAME (AGE is appended as the real server does when none is given).
    pub printer_columns: Vec<PrinterColumn>,
    /// The `openAPIV3Schema` of a custom resource version; `None` for built-in kinds. Shared:
    /// every request resolves its kind's `ResourceInfo`, and a deep copy per request cost
    /// more than the write itself.
    pub schema: Option<Arc<Value>>,
    /// True for kinds defined by a CustomResourceDefinition.
    pub custom: bool,
    /// The kind's own rules.
    pub strategy: &'static dyn Strategy,
}

impl ResourceInfo {
    /// A namespaced kind for unit tests: `example.com/v1` when `custom`, else a built-in
    /// group (`coordination.k8s.io/v1`); plural `<kind>s`.
    #[cfg(test)]
    pub(crate) fn for_tests(kind: &str, custom: bool, status_subresource: bool) -> Self {
        ResourceInfo {
            group: if custom {
                "example.com"
            } else {
                "coordination.k8s.io"
            }
            .into(),
            version: "v1".into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            plural: format!("{}s", kind.to_lowercase()),
            singular: kind.to_lowercase(),
            namespaced: true,
            short_names: vec![],
            categories: vec![],
            verbs: vec![],
            status_subresource,
            printer_columns: vec![],
            schema: None,
            custom,
            strategy: &Plain,
        }
    }

    /// A built-in kind served with every verb, without short names, categories or status.
    pub(crate) fn builtin(
        (group, version): (&str, &str),
        kind: &str,
        plural: &str,
        namespaced: bool,
        strategy: &'static dyn Strategy,
    ) -> Self {
        ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            namespaced,
            short_names: Vec::new(),
            categories: Vec::new(),
            verbs: VERBS.map(String::from).to_vec(),
            status_subresource: false,
            printer_columns: Vec::new(),
            schema: None,
            custom: false,
            strategy,
        }
    }

    pub(crate) fn short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub(crate) fn categories(mut self, categories: &[&str]) -> Self {
        self.categories = categories.iter().map(|s| s.to_string()).collect();
        self
    }

    pub(crate) fn with_status(mut self) -> Self {
        self.status_subresource = true;
        self
    }

    /// Served for these verbs only (the reviews: `create`).
    pub(crate) fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Where objects of the kind are stored (core v1 Events live with events.k8s.io ones).
    pub fn bucket(&self) -> Bucket {
        (
            self.strategy.storage_group(self).to_string(),
            self.plural.clone(),
        )
    }

    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (or just `plural` for the core group), as used in error messages.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// The kinds served at `group/version`; `None` when there are none.
pub fn served_at<'a>(
    resources: &'a [ResourceInfo],
    group: &str,
    version: &str,
) -> Option<Vec<&'a ResourceInfo>> {
    let served: Vec<&ResourceInfo> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    (!served.is_empty()).then_some(served)
}

/// A kind family's rules, as kube-apiserver's registry strategies (`RESTCreateStrategy`,
/// `RESTUpdateStrategy`, `RESTDeleteStrategy`, the table convertor, the field label
/// conversion, the typed decoder). The generic store (`crate::generic_store`) drives them.
/// The defaults are those of a plain built-in kind: no generation, unconditional updates
/// allowed, no validation beyond ObjectMeta, no hooks.
pub trait Strategy: Sync + Send + std::fmt::Debug {
    /// Whether create sets `metadata.generation` and updates bump it.
    fn tracks_generation(&self) -> bool {
        false
    }

    /// Whether a status change bumps the generation (it lives outside a status
    /// subresource, so it is part of what the generation counts).
    fn status_counts_for_generation(&self, _info: &ResourceInfo) -> bool {
        false
    }

    /// `AllowUnconditionalUpdate`: whether a PUT may omit `metadata.resourceVersion`.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// `AllowCreateOnUpdate`: whether a PUT of a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// The group whose bucket stores the kind's objects.
    fn storage_group<'a>(&self, info: &'a ResourceInfo) -> &'a str {
        &info.group
    }

    /// The apiVersion an object of this kind is stored under.
    fn stored_api_version(&self, info: &ResourceInfo) -> String {
        info.api_version()
    }

    /// The stored shape of a body the client sent in the served shape.
    fn decode_served(&self, _info: &ResourceInfo, obj: Value) -> Result<Value, ApiError> {
        Ok(obj)
    }

    /// The served shape of a stored object. An object stored under the requested apiVersion
    /// and kind must be served as it is stored: lists and watches send its stored JSON without
    /// calling this (`generic_store::served_json`).
    fn to_served<'a>(&self, info: &ResourceInfo, stored: &'a Value) -> Cow<'a, Value> {
        as_requested_version(info, stored)
    }

    /// The typed decoder's complaint about a field of the wrong JSON type (`json: cannot
    /// unmarshal ...`), which the generic store answers as a 400.
    fn type_error(&self, _obj: &Value) -> Option<String> {
        None
    }

    /// `PrepareForCreate`, after the generic stamping (identity, timestamps, generation).
    fn prepare_for_create(&self, _info: &ResourceInfo, _obj: &mut Value) {}

    /// `PrepareForUpdate` of a main-resource write, after the generic rules.
    fn prepare_for_update(&self, _info: &ResourceInfo, _old: &Value, _new: &mut Value) {}

    /// A write to a subresource of the kind's own (besides status): the object it makes of
    /// the stored one, `None` when the kind has no such subresource.
    fn update_subresource(&self, _subresource: &str, _old: &Value, _new: &Value) -> Option<Value> {
        None
    }

    /// Whether the kind's own finalizers (a namespace's `spec.finalizers`) are all gone: an
    /// update removes a deleting object only then (`ShouldDeleteDuringUpdate`).
    fn finalized(&self, _obj: &Value) -> bool {
        true
    }

    /// The kind's own DELETE (as the namespace REST's): `Some` keeps the object (marked
    /// or unchanged) instead of the generic finalizers rule.
    fn before_delete(&self, _cur: &Value) -> Option<Outcome> {
        None
    }

    /// How the kind's names are checked (`ValidateNameFunc`).
    fn name_rule(&self) -> NameRule {
        NameRule::Dns1123Subdomain
    }

    /// Defaults that also apply to what mutating admission added, before `validate`.
    fn default_admitted(&self, _obj: &mut Value) {}

    /// `Validate`: the kind's own rules on a new object.
    fn validate(&self, _info: &ResourceInfo, _obj: &Value) -> Vec<Cause> {
        Vec::new()
    }

    /// `ValidateUpdate`: the kind's own rules on an updated object.
    fn validate_update(&self, info: &ResourceInfo, obj: &Value, _old: &Value) -> Vec<Cause> {
        self.validate(info, obj)
    }

    /// `Canonicalize`, after admission: what the server itself sets (a CRD's status).
    fn canonicalize(
        &self,
        _subresource: Option<&str>,
        _obj: &mut Value,
        _old: Option<&Value>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Whether `label` may be used in a field selector (the field label conversion):
    /// metadata.name and metadata.namespace, and a CRD version's `selectableFields`.
    fn field_label_supported(&self, label: &str, selectable: &[String]) -> bool {
        matches!(label, "metadata.name" | "metadata.namespace")
            || selectable.iter().any(|f| f == label)
    }

    /// The kind's own Table printer: column definitions and one row of cells per object;
    /// `None` for the generic one (printer columns, else NAME and AGE).
    fn table(&self, _objects: &[Value], _now: DateTime<Utc>) -> Option<Table> {
        None
    }

    /// The OpenAPI properties of a built-in kind (minimal; unknown fields kept), and its
    /// description.
    fn openapi_properties(&self, info: &ResourceInfo, props: &mut Map<String, Value>) -> String {
        props.insert(
            "spec".into(),
            open_object(&format!(
                "Specification of the desired behavior of the {}.",
                info.kind
            )),
        );
        props.insert(
            "status".into(),
            open_object(&format!(
                "Most recently observed status of the {}.",
                info.kind
            )),
        );
        "A built-in Kubernetes object.".into()
    }

    /// Whether admission policies skip the kind (the policy kinds themselves, so that a
    /// policy cannot lock itself in).
    fn exempt_from_policies(&self) -> bool {
        false
    }
}

/// A Table's column definitions and rows of cells.
pub type Table = (Vec<Value>, Vec<Vec<Value>>);

/// An OpenAPI object property that keeps unknown fields.
pub fn open_object(description: &str) -> Value {
    json!({"type": "object", "description": description, "x-kubernetes-preserve-unknown-fields": true})
}

/// A built-in kind without rules of its own (Secrets, ServiceAccounts, the reviews).
#[derive(Debug)]
pub struct Plain;

impl Strategy for Plain {}

/// The served shape most kinds share: the stored object under the requested apiVersion.
/// Borrowed when it is stored under that apiVersion already (the common case: watch events
/// and responses then serialize the stored object without copying it).
pub fn as_requested_version<'a>(info: &ResourceInfo, stored: &'a Value) -> Cow<'a, Value> {
    let api_version = info.api_version();
    let kind = &info.kind;
    if stored.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str())
        && stored.get("kind").and_then(Value::as_str) == Some(kind.as_str())
    {
        return Cow::Borrowed(stored);
    }
    let mut o = stored.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), json!(api_version));
        m.insert("kind".into(), json!(kind));
    }
    Cow::Owned(o)
}
