//! Admission for custom resources, in the real server's order: prune unknown fields,
//! apply schema defaults, validate against the CRD's `openAPIV3Schema`, then evaluate its
//! `x-kubernetes-validations` CEL rules (transition rules with `oldSelf` on update).
//!
//! Schema validation runs `jsonschema` in Draft 4 mode over a copy of the schema in which
//! `nullable` and `x-kubernetes-int-or-string` are rewritten into plain `type`s; list-type
//! `set`/`map` uniqueness is checked here. Errors are worded as kube-apiserver words them.
//! CEL rules go through kube's re-exported kube-cel (`kube::core::cel`).

use crate::{cel_rules, error::Cause};
use kube::core::cel as kcel;
use serde_json::{Map, Value};

/// One CRD version's `openAPIV3Schema`, compiled once when the CRD is installed.
pub struct CompiledSchema {
    /// The schema as given (pruning, defaulting, list types, CEL).
    schema: Value,
    /// The schema rewritten for Draft 4, compiled.
    validator: jsonschema::Validator,
    /// The CEL rules, compiled once.
    cel: kcel::CompiledSchema,
    /// Where the rules are, so that unchanged subtrees are ratcheted (`cel_rules`).
    rule_map: cel_rules::RuleMap,
    /// Whether any `x-kubernetes-validations` rule exists (the real server has no CEL
    /// validator otherwise).
    has_rules: bool,
}

impl CompiledSchema {
    /// Compile; an error message when the schema itself is unusable (the CRD is then refused).
    pub fn new(schema: &Value) -> Result<Self, String> {
        if !schema.is_object() {
            return Err("openAPIV3Schema must be an object".into());
        }
        let draft4 = to_draft4(schema);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&draft4)
            .map_err(|e| format!("invalid openAPIV3Schema: {e}"))?;
        let cel = kcel::compile_schema(schema);
        let rule_map = cel_rules::RuleMap::new(&cel, schema);
        let has_rules = has_rules(schema);
        Ok(CompiledSchema {
            schema: schema.clone(),
            validator,
            cel,
            rule_map,
            has_rules,
        })
    }

    /// Remove fields the schema does not know (honouring `x-kubernetes-preserve-unknown-fields`
    /// and `x-kubernetes-embedded-resource`; `apiVersion`, `kind`, `metadata` are kept at the
    /// root) and apply `default`s. Returns the paths of the pruned fields, e.g. `spec.foo`,
    /// so the caller can refuse them under `fieldValidation=Strict` or warn.
    pub fn prune_and_default(&self, obj: &mut Value) -> Vec<String> {
        let mut pruned = Vec::new();
        prune_node(obj, &self.schema, At::Root, true, &mut pruned, 0);
        pruned
    }

    /// Validate against the schema and the CEL rules. `old` is the stored object on update
    /// (transition rules run only then). Empty when valid.
    pub fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
        let mut causes = Vec::new();
        for err in self.validator.iter_errors(obj) {
            causes.push(schema_error_cause(obj, &err));
        }
        // As the real server: type, required, enum and size violations block the CEL rules.
        let blocking = causes.iter().any(|c| {
            matches!(
                c.reason.as_str(),
                "FieldValueNotSupported"
                    | "FieldValueRequired"
                    | "FieldValueTooLong"
                    | "FieldValueTooMany"
                    | "FieldValueTypeInvalid"
            )
        });
        list_types_and_formats(obj, &self.schema, At::Root, &mut causes, 0);
        if blocking && self.has_rules {
            causes.push(cause(
                "FieldValueInvalid",
                "<nil>".into(),
                // The real server reports it on a nil field path, printed `<nil>`.
                "Invalid value: null: some validation rules were not checked because the object was invalid; \
                 correct the existing errors to complete validation"
                    .into(),
            ));
            return causes;
        }
        for e in cel_rules::validate(&self.cel, &self.rule_map, obj, old) {
            causes.push(cel_cause(obj, &self.schema, &e));
        }
        causes
    }
}

const MAX_DEPTH: usize = 64;

fn has_rules(schema: &Value) -> bool {
    match schema {
        Value::Object(m) => {
            m.get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
                || m.iter()
                    .any(|(k, v)| k != "default" && k != "example" && k != "enum" && has_rules(v))
        }
        Value::Array(a) => a.iter().any(has_rules),
        _ => false,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// Where a node is, as a chain of steps up to the root: spelled out only for a pruned field,
/// so walking an object allocates nothing for the fields it keeps.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Field(&'a At<'a>, &'a str),
    Item(&'a At<'a>, usize),
}

impl At<'_> {
    fn spell(&self) -> String {
        match self {
            At::Root => String::new(),
            At::Field(parent, key) => join(&parent.spell(), key),
            At::Item(parent, i) => format!("{}[{i}]", parent.spell()),
        }
    }
}

/// Prune unknown fields, drop nulls of non-nullable fields, apply defaults.
fn prune_node(
    v: &mut Value,
    schema: &Value,
    at: At<'_>,
    root: bool,
    pruned: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
            let embedded = flag(schema, "x-kubernetes-embedded-resource");
            m.retain(|k, child| {
                if (root || embedded) && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    // Type and object metadata are the server's business, never pruned here.
                    return true;
                }
                let child_schema = props
                    .and_then(|p| p.get(k))
                    .or(additional.filter(|a| a.is_object()));
                match child_schema {
                    Some(cs) => {
                        if child.is_null() && !flag(cs, "nullable") {
                            // The real server drops nulls of non-nullable fields (then defaults).
                            return false;
                        }
                        prune_node(child, cs, At::Field(&at, k), false, pruned, depth + 1);
                        true
                    }
                    None => {
                        let keep = preserve || additional.and_then(Value::as_bool) == Some(true);
                        if !keep {
                            pruned.push(At::Field(&at, k).spell());
                        }
                        keep
                    }
                }
            });
            if let Some(props) = props {
                for (k, ps) in props {
                    if m.contains_key(k) {
                        continue;
                    }
                    if let Some(d) = ps.get("default") {
                        let mut d = d.clone();
                        let mut ignored = Vec::new();
                        prune_node(
                            &mut d,
                            ps,
                            At::Field(&at, k),
                            false,
                            &mut ignored,
                            depth + 1,
                        );
                        m.insert(k.clone(), d);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = schema.get("items").filter(|i| i.is_object()) {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_node(item, is, At::Item(&at, i), false, pruned, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Rewrite the Kubernetes extensions into plain Draft 4.
fn to_draft4(schema: &Value) -> Value {
    let Some(m) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let nv = match k.as_str() {
            "properties" | "patternProperties" | "definitions" => match v.as_object() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|(pk, pv)| (pk.clone(), to_draft4(pv)))
                        .collect(),
                ),
                None => v.clone(),
            },
            "items" | "additionalProperties" | "not" | "additionalItems" => to_draft4(v),
            "allOf" | "anyOf" | "oneOf" => match v.as_array() {
                Some(a) => Value::Array(a.iter().map(to_draft4).collect()),
                None => v.clone(),
            },
            "default" | "example" | "x-kubernetes-validations" | "format" => continue,
            _ => v.clone(),
        };
        out.insert(k.clone(), nv);
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        out.insert("type".into(), serde_json::json!(["integer", "string"]));
    }
    if flag(schema, "nullable") {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                out.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Some(Value::Array(ts)) => ts.push(Value::String("null".into())),
            _ => {}
        }
        if let Some(Value::Array(e)) = out.get_mut("enum")
            && !e.contains(&Value::Null)
        {
            e.push(Value::Null);
        }
    }
    Value::Object(out)
}

/// A JSON pointer into `obj` as the real server prints field paths: `spec.items[0].name`.
fn pointer_to_path(obj: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut cur = Some(obj);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(a)) => {
                out.push_str(&format!("[{seg}]"));
                cur = seg.parse::<usize>().ok().and_then(|i| a.get(i));
            }
            other => {
                out = join(&out, &seg);
                cur = other.and_then(|o| o.get(&seg));
            }
        }
    }
    out
}

/// A value as Go's `field.Invalid` prints it.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A schema bound as Go's `%v` prints a float64: `32`, not `32.0`.
fn go_number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{}", f as i64),
        _ => v.to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cause(reason: &str, field: String, message: String) -> Cause {
    Cause {
        reason: reason.into(),
        message,
        field,
    }
}

fn schema_error_cause(obj: &Value, err: &jsonschema::ValidationError<'_>) -> Cause {
    use jsonschema::error::ValidationErrorKind as K;
    let path = pointer_to_path(obj, err.instance_path().as_str());
    let inst: &Value = err.instance();
    let body = if path.is_empty() {
        "body".to_string()
    } else {
        format!("{path} in body")
    };
    let invalid = |detail: String| {
        cause(
            "FieldValueInvalid",
            path.clone(),
            format!("Invalid value: {}: {detail}", show(inst)),
        )
    };
    match err.kind() {
        K::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            cause(
                "FieldValueRequired",
                join(&path, &name),
                "Required value".into(),
            )
        }
        K::Enum { options } => {
            // Each supported value quoted, a non-string by its JSON text (`"null"`).
            let values: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| match v {
                            Value::String(s) => format!("{s:?}"),
                            other => format!("{:?}", other.to_string()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            cause(
                "FieldValueNotSupported",
                path.clone(),
                format!(
                    "Unsupported value: {}: supported values: {}",
                    show(inst),
                    values.join(", ")
                ),
            )
        }
        K::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => {
                    let names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                    names.join("/")
                }
            };
            let actual = type_name(inst);
            cause(
                "FieldValueTypeInvalid",
                path.clone(),
                format!(
                    "Invalid value: \"{actual}\": {body} must be of type {expected}: \"{actual}\""
                ),
            )
        }
        K::Pattern { pattern } => invalid(format!("{body} should match '{pattern}'")),
        K::MaxLength { limit } => cause(
            "FieldValueTooLong",
            path.clone(),
            format!("Too long: may not be more than {limit} bytes"),
        ),
        K::MinLength { limit } => invalid(format!("{body} should be at least {limit} chars long")),
        K::MaxItems { limit } => {
            let n = inst.as_array().map_or(0, Vec::len);
            cause(
                "FieldValueTooMany",
                path.clone(),
                format!("Too many: {n}: must have at most {limit} items"),
            )
        }
        K::MinItems { limit } => invalid(format!("{body} should have at least {limit} items")),
        K::MaxProperties { limit } => {
            let n = inst.as_object().map_or(0, Map::len);
            cause(
                "FieldValueTooMany",
                path.clone(),
                format!("Too many: {n}: must have at most {limit} items"),
            )
        }
        K::MinProperties { limit } => {
            invalid(format!("{body} should have at least {limit} properties"))
        }
        K::Minimum { limit } => invalid(format!(
            "{body} should be greater than or equal to {}",
            go_number(limit)
        )),
        K::Maximum { limit } => invalid(format!(
            "{body} should be less than or equal to {}",
            go_number(limit)
        )),
        K::ExclusiveMinimum { limit } => invalid(format!(
            "{body} should be greater than {}",
            go_number(limit)
        )),
        K::ExclusiveMaximum { limit } => {
            invalid(format!("{body} should be less than {}", go_number(limit)))
        }
        K::MultipleOf { multiple_of } => {
            invalid(format!("{body} should be a multiple of {multiple_of}"))
        }
        K::UniqueItems => invalid(format!("{body} shouldn't contain duplicates")),
        K::AdditionalProperties { unexpected } => invalid(format!(
            "{body} must not have additional properties: {}",
            unexpected.join(", ")
        )),
        K::AnyOf { .. } => invalid(format!("{body} must validate at least one schema (anyOf)")),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => invalid(format!(
            "{body} must validate one and only one schema (oneOf)"
        )),
        K::Not { .. } => invalid(format!("{body} must not validate the schema (not)")),
        _ => invalid(format!("{body} {err}")),
    }
}

/// `x-kubernetes-list-type: set` and `map` (with `x-kubernetes-list-map-keys`) uniqueness.
fn list_types_and_formats(
    v: &Value,
    schema: &Value,
    at: At<'_>,
    causes: &mut Vec<Cause>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, child) in m {
                if let Some(cs) = props.and_then(|p| p.get(k)).or(additional) {
                    list_types_and_formats(child, cs, At::Field(&at, k), causes, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => {
                    for (i, item) in items.iter().enumerate() {
                        if items[..i].contains(item) {
                            causes.push(cause(
                                "FieldValueDuplicate",
                                At::Item(&at, i).spell(),
                                format!("Duplicate value: {}", show(item)),
                            ));
                        }
                    }
                }
                Some("map") => {
                    let keys: Vec<&str> = schema
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let null = Value::Null;
                    let same_key = |a: &Value, b: &Value| {
                        keys.iter()
                            .all(|k| a.get(*k).unwrap_or(&null) == b.get(*k).unwrap_or(&null))
                    };
                    let key_of = |item: &Value| -> Map<String, Value> {
                        keys.iter()
                            .map(|k| (k.to_string(), item.get(*k).cloned().unwrap_or(Value::Null)))
                            .collect()
                    };
                    for (i, item) in items.iter().enumerate() {
                        if !keys.is_empty() && items[..i].iter().any(|o| same_key(o, item)) {
                            causes.push(cause(
                                "FieldValueDuplicate",
                                At::Item(&at, i).spell(),
                                format!("Duplicate value: {}", Value::Object(key_of(item))),
                            ));
                        }
                    }
                }
                _ => {}
            }
            if let Some(is) = schema.get("items").filter(|i| i.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    list_types_and_formats(item, is, At::Item(&at, i), causes, depth + 1);
                }
            }
        }
        Value::String(text) => {
            let format = schema.get("format").and_then(Value::as_str);
            if let Some(format @ ("date-time" | "date")) = format {
                let valid = if format == "date" {
                    is_date(text)
                } else {
                    is_date_time(text)
                };
                if !valid {
                    let path = at.spell();
                    let body = if path.is_empty() {
                        "body".into()
                    } else {
                        format!("{path} in body")
                    };
                    causes.push(cause(
                        "FieldValueInvalid",
                        path,
                        format!(
                            "Invalid value: {}: {body} must be of type {format}: {}",
                            show(v),
                            show(v)
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
}

/// kube-openapi's strfmt `IsDate`: Go's `time.Parse("2006-01-02", s)` (two-digit month and
/// day, the day within its month).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return false;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i32>().unwrap_or(0);
    chrono::NaiveDate::from_ymd_opt(n(0..4), n(5..7) as u32, n(8..10) as u32).is_some()
}

/// kube-openapi's strfmt `IsDateTime`: a date, `T` (either case), then
/// `hh:mm:ss[.fraction]` and `Z` or `±hh:mm`, hours ≤ 23, minutes and seconds ≤ 59.
fn is_date_time(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if s.len() < 4 || !is_date(date) {
        return false;
    }
    let b = time.as_bytes();
    let two = |i: usize| b.get(i..i + 2).filter(|d| d.iter().all(u8::is_ascii_digit));
    let (Some(h), Some(m), Some(sec)) = (two(0), two(3), two(6)) else {
        return false;
    };
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return false;
    }
    let rest = &time[8..];
    let zone = |z: &str| {
        let b = z.as_bytes();
        z == "z"
            || (b.len() == 6
                && matches!(b[0], b'+' | b'-')
                && b[3] == b':'
                && b[1..3].iter().chain(&b[4..6]).all(u8::is_ascii_digit))
    };
    // `(.[0-9]+)?`: Go's `.` is any one character, then digits; or no fraction at all.
    let fraction = || {
        let mut chars = rest.chars();
        chars.next()?;
        let after = chars.as_str();
        let tail = after.trim_start_matches(|c: char| c.is_ascii_digit());
        (tail.len() < after.len()).then_some(tail)
    };
    let zone_ok = zone(rest) || fraction().is_some_and(zone);
    zone_ok && h <= b"23".as_slice() && m <= b"59".as_slice() && sec <= b"59".as_slice()
}

/// The value at a kube-cel field path (`spec.items[0].name`), best effort.
fn value_at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// The schema node at a dotted field path (`spec.items[0].name`).
fn schema_at<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = schema;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur
                .pointer(&format!("/properties/{name}"))
                .or_else(|| cur.get("additionalProperties"))?;
        }
        for _ in rest.split('[').filter(|s| !s.is_empty()) {
            cur = cur.get("items")?;
        }
    }
    Some(cur)
}

fn cel_cause(obj: &Value, schema: &Value, e: &kcel::ValidationError) -> Cause {
    // As apiextensions' CEL validator: the value is printed unless the rule lives on an
    // object or array (`field.OmitValueType`); a rule on an object reporting on a child
    // through `fieldPath` omits it too.
    let value = value_at(obj, &e.field_path);
    let rule_here = schema_at(schema, &e.field_path)
        .and_then(|n| n.get("x-kubernetes-validations"))
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules
                .iter()
                .any(|r| r.get("rule").and_then(Value::as_str) == Some(e.rule.as_str()))
        });
    let shown = value
        .filter(|v| rule_here && !v.is_object() && !v.is_array())
        .map(show);
    let message = match e.kind {
        kcel::ErrorKind::ValidationFailure => e.message.clone(),
        kcel::ErrorKind::CompilationFailure | kcel::ErrorKind::InvalidRule => {
            format!("compilation failed: {}", e.message)
        }
        _ => e.message.clone(),
    };
    let reason = e
        .reason
        .clone()
        .unwrap_or_else(|| "FieldValueInvalid".to_string());
    let message = match reason.as_str() {
        "FieldValueForbidden" => format!("Forbidden: {message}"),
        "FieldValueRequired" => format!("Required value: {message}"),
        "FieldValueDuplicate" => match &shown {
            Some(v) => format!("Duplicate value: {v}"),
            None => "Duplicate value".to_string(),
        },
        _ => match &shown {
            Some(v) => format!("Invalid value: {v}: {message}"),
            None => format!("Invalid value: {message}"),
        },
    };
    Cause {
        reason,
        message,
        field: e.field_path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.metadata.name.startsWith('svc-')", "message": "name must start with svc-"}
            ],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["owner"],
                    "x-kubernetes-validations": [
                        {"rule": "self.replicas <= 10", "message": "too many replicas"}
                    ],
                    "properties": {
                        "owner": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
                        "tier": {"type": "string", "enum": ["A", "B"]},
                        "replicas": {"type": "integer", "default": 1, "minimum": 0},
                        "port": {"x-kubernetes-int-or-string": true},
                        "note": {"type": "string", "nullable": true},
                        "tags": {"type": "array", "maxItems": 2, "x-kubernetes-list-type": "set",
                                 "items": {"type": "string"}},
                        "items": {"type": "array", "items": {"type": "object",
                                  "properties": {"name": {"type": "string"}}}},
                        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "immutable": {"type": "string",
                                      "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "is immutable"}]}
                    }
                },
                "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
            }
        })
    }

    fn obj(spec: Value) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Svc", "metadata": {"name": "svc-a"}, "spec": spec})
    }

    fn compiled() -> CompiledSchema {
        CompiledSchema::new(&schema()).unwrap()
    }

    fn admit(
        c: &CompiledSchema,
        mut o: Value,
        old: Option<&Value>,
    ) -> (Value, Vec<String>, Vec<Cause>) {
        let pruned = c.prune_and_default(&mut o);
        let causes = c.validate(&o, old);
        (o, pruned, causes)
    }

    #[test]
    fn send_and_sync() {
        fn assert<T: Send + Sync>() {}
        assert::<CompiledSchema>();
    }

    #[test]
    fn valid_object_passes() {
        let (_, pruned, causes) = admit(
            &compiled(),
            obj(json!({"owner": "ann", "port": "http", "note": null})),
            None,
        );
        assert!(pruned.is_empty());
        assert!(causes.is_empty(), "{causes:?}");
        let (_, _, causes) = admit(&compiled(), obj(json!({"owner": "ann", "port": 80})), None);
        assert!(causes.is_empty(), "{causes:?}");
    }

    #[test]
    fn required_missing() {
        let (_, _, causes) = admit(&compiled(), obj(json!({"tier": "A", "replicas": 11})), None);
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(
            causes[0],
            Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value".into(),
                field: "spec.owner".into()
            }
        );
        // The CEL rule on spec (replicas <= 10) is not evaluated, as the real server does.
        assert_eq!(causes[1].field, "<nil>");
        assert!(
            causes[1]
                .message
                .contains("some validation rules were not checked")
        );
        // Without any CEL rule in the schema there is no such note.
        let plain = CompiledSchema::new(
            &json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["owner"], "properties": {"owner": {"type": "string"}}}}}),
        )
        .unwrap();
        let causes = plain.validate(&json!({"spec": {}}), None);
        assert_eq!(causes.len(), 1, "{causes:?}");
    }

    #[test]
    fn enum_unsupported() {
        let (_, _, causes) = admit(
            &compiled(),
            obj(json!({"owner": "ann", "tier": "Foo"})),
            None,
        );
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].reason, "FieldValueNotSupported");
        assert_eq!(causes[0].field, "spec.tier");
        assert_eq!(
            causes[0].message,
            r#"Unsupported value: "Foo": supported values: "A", "B""#
        );
    }

    #[test]
    fn type_pattern_and_length() {
        let (_, _, causes) = admit(&compiled(), obj(json!({"owner": 5})), None);
        assert_eq!(causes[0].reason, "FieldValueTypeInvalid");
        assert_eq!(
            causes[0].message,
            r#"Invalid value: "integer": spec.owner in body must be of type string: "integer""#
        );
        let (_, _, causes) = admit(&compiled(), obj(json!({"owner": "Ann"})), None);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].reason, "FieldValueInvalid");
        assert_eq!(
            causes[0].message,
            r#"Invalid value: "Ann": spec.owner in body should match '^[a-z]+$'"#
        );
        let (_, _, causes) = admit(&compiled(), obj(json!({"owner": "abcdefghij"})), None);
        assert_eq!(causes.len(), 2);
        assert_eq!(causes[0].reason, "FieldValueTooLong");
        assert_eq!(causes[0].field, "spec.owner");
    }

    #[test]
    fn max_items_and_set() {
        let (_, _, causes) = admit(
            &compiled(),
            obj(json!({"owner": "a", "tags": ["x", "y", "z"]})),
            None,
        );
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0].reason, "FieldValueTooMany");
        assert_eq!(causes[0].field, "spec.tags");
        let (_, _, causes) = admit(
            &compiled(),
            obj(json!({"owner": "a", "tags": ["x", "x"]})),
            None,
        );
        assert_eq!(causes[0].reason, "FieldValueDuplicate");
        assert_eq!(causes[0].field, "spec.tags[1]");
    }

    #[test]
    fn default_applied() {
        let (o, _, causes) = admit(&compiled(), obj(json!({"owner": "a"})), None);
        assert!(causes.is_empty());
        assert_eq!(o["spec"]["replicas"], 1);
        // null of a non-nullable field is dropped, then defaulted.
        let (o, _, _) = admit(
            &compiled(),
            obj(json!({"owner": "a", "replicas": null})),
            None,
        );
        assert_eq!(o["spec"]["replicas"], 1);
    }

    #[test]
    fn unknown_fields_pruned_and_reported() {
        let (o, pruned, causes) = admit(
            &compiled(),
            obj(
                json!({"owner": "a", "foo": 1, "items": [{"name": "n", "bar": 2}], "config": {"any": {"thing": 1}}}),
            ),
            None,
        );
        assert!(causes.is_empty(), "{causes:?}");
        assert_eq!(
            pruned,
            vec!["spec.foo".to_string(), "spec.items[0].bar".to_string()]
        );
        assert!(o["spec"].get("foo").is_none());
        assert_eq!(o["spec"]["items"], json!([{"name": "n"}]));
        assert_eq!(
            o["spec"]["config"],
            json!({"any": {"thing": 1}}),
            "preserve-unknown-fields keeps it"
        );
        assert_eq!(o["metadata"]["name"], "svc-a");
        let mut top = obj(json!({"owner": "a"}));
        top["extra"] = json!(true);
        let pruned = compiled().prune_and_default(&mut top);
        assert_eq!(pruned, vec!["extra".to_string()]);
    }

    #[test]
    fn cel_rule_fails_with_message() {
        let (_, _, causes) = admit(
            &compiled(),
            obj(json!({"owner": "a", "replicas": 11})),
            None,
        );
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].reason, "FieldValueInvalid");
        assert_eq!(causes[0].field, "spec");
        assert_eq!(causes[0].message, r#"Invalid value: too many replicas"#);
    }

    #[test]
    fn transition_rule_only_on_update() {
        let c = compiled();
        let (created, _, causes) = admit(&c, obj(json!({"owner": "a", "immutable": "x"})), None);
        assert!(causes.is_empty(), "{causes:?}");
        let (_, _, causes) = admit(
            &c,
            obj(json!({"owner": "a", "immutable": "y"})),
            Some(&created),
        );
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, "spec.immutable");
        assert!(causes[0].message.ends_with("is immutable"));
        let (_, _, causes) = admit(
            &c,
            obj(json!({"owner": "a", "immutable": "x"})),
            Some(&created),
        );
        assert!(causes.is_empty(), "{causes:?}");
    }

    #[test]
    fn root_rule_on_metadata_name() {
        let mut o = obj(json!({"owner": "a"}));
        o["metadata"]["name"] = json!("other");
        let (_, _, causes) = admit(&compiled(), o, None);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, "");
        assert!(causes[0].message.ends_with("name must start with svc-"));
    }

    #[test]
    fn bad_rule_is_a_cause() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [{"rule": "self.x ==== 1"}]}}});
        let c = CompiledSchema::new(&s).unwrap();
        let causes = c.validate(&json!({"spec": {"x": 1}}), None);
        assert_eq!(causes.len(), 1);
        assert!(
            causes[0].message.contains("compilation failed"),
            "{causes:?}"
        );
        // A rule without a message reports the rule.
        let s = json!({"type": "object", "properties": {"spec": {"type": "object",
            "x-kubernetes-validations": [{"rule": "self.x == 2"}]}}});
        let causes = CompiledSchema::new(&s)
            .unwrap()
            .validate(&json!({"spec": {"x": 1}}), None);
        assert_eq!(
            causes[0].message,
            r#"Invalid value: failed rule: self.x == 2"#
        );
    }

    #[test]
    fn date_and_date_time_as_kube_openapi_strfmt() {
        for ok in ["2026-02-28", "2024-02-29"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-2-28",
            "26-02-28",
            "2026-13-01",
            "next week",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        for ok in [
            "2026-01-01T10:00:00Z",
            "2026-01-01t10:00:00z",
            "2026-01-01T10:00:00.123456Z",
            "2026-01-01T23:59:59+02:00",
            "2026-01-01T10:00:00-05:30",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "next week",
            "2026-01-01",
            "2026-01-01T10:00:00",
            "2026-01-01T24:00:00Z",
            "2026-01-01T10:60:00Z",
            "2026-02-30T10:00:00Z",
            "2026-01-01T10:00:00+0200",
            "2026-01-01 10:00:00Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn a_bad_date_time_is_refused_as_kube_words_it() {
        let c = CompiledSchema::new(&json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "expiresAt": {"type": "string", "format": "date-time"}
            }}}
        }))
        .unwrap();
        let causes = c.validate(&json!({"spec": {"expiresAt": "next week"}}), None);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "spec.expiresAt");
        assert_eq!(
            causes[0].message,
            "Invalid value: \"next week\": spec.expiresAt in body must be of type date-time: \"next week\""
        );
        assert!(
            c.validate(
                &json!({"spec": {"expiresAt": "2026-01-01T00:00:00Z"}}),
                None
            )
            .is_empty()
        );
    }

    #[test]
    fn embedded_resource_keeps_type_meta() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                         "properties": {"spec": {"type": "object"}}}}}}});
        let c = CompiledSchema::new(&s).unwrap();
        let mut o = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {}, "junk": 1}}});
        let pruned = c.prune_and_default(&mut o);
        assert_eq!(pruned, vec!["spec.template.junk".to_string()]);
        assert_eq!(o["spec"]["template"]["kind"], "Pod");
    }
}
