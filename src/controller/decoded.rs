//! Objects decoded one by one. kube decodes a whole list or watch event at once, so one object
//! the operator cannot read (a date beyond its date type's range, say) would fail the list of
//! all the others; decoded as `Decoded<K>` it is carried as `Unreadable` instead.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::Value;

/// An object as the API server sent it: readable as `K`, or not.
#[derive(Clone, Debug)]
pub(crate) enum Decoded<K> {
    Readable(K),
    Unreadable(Box<Unreadable>),
}

/// What is kept of an object that is not readable as its kind.
#[derive(Clone, Debug)]
pub(crate) struct Unreadable {
    /// Its name, namespace, uid and resourceVersion only: enough to report it once per version
    /// and to drop the readable copy a cache may hold.
    pub metadata: ObjectMeta,
    /// Which field could not be read, and why.
    pub error: String,
}

impl<K: Resource> Resource for Decoded<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }
    fn api_version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::api_version(dt)
    }
    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        match self {
            Decoded::Readable(k) => k.meta(),
            Decoded::Unreadable(u) => &u.metadata,
        }
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Decoded::Readable(k) => k.meta_mut(),
            Decoded::Unreadable(u) => &mut u.metadata,
        }
    }
}

impl<K: DeserializeOwned> Decoded<K> {
    /// Never fails: what is not readable as `K` is `Unreadable`.
    pub(crate) fn from_value(mut value: Value) -> Self {
        // The operator never reads managedFields, and clients may write them (a time beyond
        // the date type's range among them): they are dropped before they can fail anything.
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        // Tracking the path costs on every field: only a failed read is read again with it.
        if let Ok(object) = K::deserialize(&value) {
            return Decoded::Readable(object);
        }
        match serde_path_to_error::deserialize::<_, K>(&value) {
            Ok(object) => Decoded::Readable(object),
            Err(error) => Decoded::Unreadable(Box::new(Unreadable {
                metadata: identity(&value),
                error: format!("{}: {}", error.path(), error.inner()),
            })),
        }
    }
}

/// The metadata that names an object, read field by field so that nothing else in it can fail.
fn identity(value: &Value) -> ObjectMeta {
    let field = |name: &str| {
        value
            .pointer(&format!("/metadata/{name}"))
            .and_then(Value::as_str)
            .map(String::from)
    };
    ObjectMeta {
        name: field("name"),
        namespace: field("namespace"),
        uid: field("uid"),
        resource_version: field("resourceVersion"),
        ..ObjectMeta::default()
    }
}

impl<'de, K: DeserializeOwned> Deserialize<'de> for Decoded<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Service, ServiceApproval};
    use serde_json::json;

    fn approval(expires_at: &str) -> Value {
        json!({
            "apiVersion": "catalog.charter.dev/v1alpha1",
            "kind": "ServiceApproval",
            "metadata": {"name": "ledger-ava", "namespace": "payments", "uid": "u-1", "resourceVersion": "42"},
            "spec": {"serviceName": "ledger", "revision": "0123456789", "decision": "Approved", "approver": "ava", "expiresAt": expires_at},
        })
    }

    #[test]
    fn a_readable_object_decodes_as_its_kind() {
        let decoded = Decoded::<ServiceApproval>::from_value(approval("2030-01-01T00:00:00Z"));
        let Decoded::Readable(a) = decoded else {
            panic!("readable: {decoded:?}")
        };
        assert_eq!(a.spec.approver, "ava");
    }

    #[test]
    fn a_date_beyond_the_date_type_is_unreadable_and_named_with_its_field() {
        let decoded = Decoded::<ServiceApproval>::from_value(approval("9999-12-31T23:59:59Z"));
        let Decoded::Unreadable(u) = decoded else {
            panic!("unreadable: {decoded:?}")
        };
        assert!(u.error.starts_with("spec.expiresAt: "), "{}", u.error);
        assert_eq!(u.metadata.name.as_deref(), Some("ledger-ava"));
        assert_eq!(u.metadata.namespace.as_deref(), Some("payments"));
        assert_eq!(u.metadata.uid.as_deref(), Some("u-1"));
        assert_eq!(u.metadata.resource_version.as_deref(), Some("42"));
    }

    #[test]
    fn managed_fields_never_make_an_object_unreadable() {
        let service = json!({
            "apiVersion": "catalog.charter.dev/v1alpha1",
            "kind": "Service",
            "metadata": {"name": "ledger", "namespace": "payments", "managedFields": [
                {"manager": "someone", "operation": "Update", "time": "9999-12-31T23:59:59Z"},
            ]},
            "spec": {"owner": "dana"},
        });
        let decoded = Decoded::<Service>::from_value(service);
        let Decoded::Readable(s) = decoded else {
            panic!("readable: {decoded:?}")
        };
        assert_eq!(s.metadata.managed_fields, None);
    }

    #[test]
    fn a_list_or_watch_event_with_an_unreadable_object_still_decodes() {
        let list = json!({
            "apiVersion": "catalog.charter.dev/v1alpha1",
            "kind": "ServiceApprovalList",
            "metadata": {"resourceVersion": "43"},
            "items": [approval("9999-12-31T23:59:59Z"), approval("2030-01-01T00:00:00Z")],
        })
        .to_string();
        let list: kube::core::ObjectList<Decoded<ServiceApproval>> =
            serde_json::from_str(&list).expect("the list decodes");
        assert!(matches!(list.items[0], Decoded::Unreadable(_)));
        assert!(matches!(list.items[1], Decoded::Readable(_)));

        let event =
            json!({"type": "MODIFIED", "object": approval("9999-12-31T23:59:59Z")}).to_string();
        let event: kube::core::WatchEvent<Decoded<ServiceApproval>> =
            serde_json::from_str(&event).expect("the watch event decodes");
        assert!(matches!(
            event,
            kube::core::WatchEvent::Modified(Decoded::Unreadable(_))
        ));
    }
}
