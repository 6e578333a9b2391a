//! What a request asks to do, in the authorizer's terms: the attributes k8s.io/apiserver's
//! request-info resolver (`pkg/endpoints/request/requestinfo.go`) derives from the method,
//! path and query, and the 403 Status a denied request gets (`responsewriters.Forbidden`).

use crate::auth::User;
use crate::error::ApiError;
use std::collections::HashMap;

/// The resource part of a resource request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceAttributes {
    /// Empty for the core group.
    pub group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty for collections (list, watch, create, deletecollection) unless a list or
    /// watch selects one object with `fieldSelector=metadata.name=<name>`.
    pub name: String,
    /// Empty for cluster-scoped requests.
    pub namespace: String,
}

/// One request as the authorizer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub user: User,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`,
    /// `impersonate`; for non-resource requests the lower-cased HTTP method.
    pub verb: String,
    /// The URL path (what non-resource rules match).
    pub path: String,
    /// `None` for non-resource requests (`/api`, `/version`, `/openapi/v3`, ...).
    pub resource: Option<ResourceAttributes>,
}

impl Attributes {
    pub fn namespace(&self) -> &str {
        self.resource.as_ref().map_or("", |r| r.namespace.as_str())
    }
}

/// Namespace subresources: `/namespaces/<ns>/status` is the namespace's status, not a
/// resource called `status` inside it.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// The attributes of an HTTP request, derived as the real server derives them.
pub fn from_request(
    user: User,
    method: &str,
    path: &str,
    query: &HashMap<String, String>,
) -> Attributes {
    let verb = method.to_ascii_lowercase();
    let non_resource = |user: User, verb: String| Attributes {
        user,
        verb,
        path: path.to_string(),
        resource: None,
    };
    let trimmed = path.trim_matches('/');
    let parts: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    let (group, rest) = match parts.as_slice() {
        ["api", rest @ ..] if rest.len() >= 2 => ("", rest),
        ["apis", group, rest @ ..] if rest.len() >= 2 => (*group, rest),
        _ => return non_resource(user, verb),
    };
    // rest[0] is the version.
    let mut rest = &rest[1..];
    let mut verb = match method {
        "POST" => "create",
        "GET" | "HEAD" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "",
    }
    .to_string();
    if let [special @ ("watch" | "proxy"), tail @ ..] = rest
        && !tail.is_empty()
    {
        verb = special.to_string();
        rest = tail;
    }
    let mut namespace = String::new();
    if let ["namespaces", ns, tail @ ..] = rest {
        namespace = ns.to_string();
        if tail
            .first()
            .is_some_and(|t| !NAMESPACE_SUBRESOURCES.contains(t))
        {
            rest = tail;
        }
    }
    let at = |i: usize| rest.get(i).copied().unwrap_or_default().to_string();
    let mut info = ResourceAttributes {
        group: group.to_string(),
        resource: at(0),
        name: at(1),
        subresource: if verb == "proxy" {
            String::new()
        } else {
            at(2)
        },
        namespace,
    };
    if info.name.is_empty() && verb == "get" {
        verb = match query.get("watch").map(|w| w.to_ascii_lowercase()) {
            Some(w) if w != "false" && w != "0" => "watch",
            _ => "list",
        }
        .into();
        if let Some(name) = query.get("fieldSelector").and_then(|s| name_selected(s)) {
            info.name = name;
        }
    }
    if info.name.is_empty() && verb == "delete" {
        verb = "deletecollection".into();
    }
    Attributes {
        user,
        verb,
        path: path.to_string(),
        resource: Some(info),
    }
}

/// The name a field selector requires exactly (`metadata.name=x` or `==`), when it is a
/// valid path segment.
fn name_selected(selector: &str) -> Option<String> {
    selector.split(',').find_map(|term| {
        let (k, v) = term
            .split_once("==")
            .or_else(|| term.split_once('='))
            .filter(|(k, _)| !k.ends_with('!'))?;
        let v = v.trim();
        let valid = !v.is_empty() && v != "." && v != ".." && !v.contains(['/', '%']);
        (k.trim() == "metadata.name" && valid).then(|| v.to_string())
    })
}

/// Go's `%q` for the strings this server prints (names, verbs, paths).
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `User "gus" cannot patch resource "services/status" in API group "g" in the namespace "n"`.
fn forbidden_message(a: &Attributes) -> String {
    let user = quote(&a.user.name);
    let Some(r) = &a.resource else {
        return format!("User {user} cannot {} path {}", a.verb, quote(&a.path));
    };
    let resource = if r.subresource.is_empty() {
        r.resource.clone()
    } else {
        format!("{}/{}", r.resource, r.subresource)
    };
    let scope = if r.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {}", quote(&r.namespace))
    };
    format!(
        "User {user} cannot {} resource {} in API group {} {scope}",
        a.verb,
        quote(&resource),
        quote(&r.group)
    )
}

/// The 403 Forbidden Status for a denied request; `reason` is the authorizer's (RBAC's
/// role-resolution errors), appended after a colon as the real server does.
pub fn forbidden(a: &Attributes, reason: &str) -> ApiError {
    // Avoid messages that look like HTML, as the real server does.
    let mut msg = forbidden_message(a)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if !reason.is_empty() {
        msg = format!("{msg}: {reason}");
    }
    let Some(r) = &a.resource else {
        return ApiError::new(403, "Forbidden", format!("forbidden: {msg}"));
    };
    let qualified = if r.group.is_empty() {
        r.resource.clone()
    } else {
        format!("{}.{}", r.resource, r.group)
    };
    let message = if qualified.is_empty() {
        format!("forbidden: {msg}")
    } else if r.name.is_empty() {
        format!("{qualified} is forbidden: {msg}")
    } else {
        format!("{qualified} {} is forbidden: {msg}", quote(&r.name))
    };
    let mut e = ApiError::new(403, "Forbidden", message);
    // Empty details are left out, as the real Status's omitempty fields are.
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    e.name = some(&r.name);
    e.group = some(&r.group);
    e.kind = some(&r.resource);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(method: &str, path: &str, query: &[(&str, &str)]) -> Attributes {
        let q = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_request(User::new("gus", &[]), method, path, &q)
    }

    fn res(a: &Attributes) -> (&str, &str, &str, &str, &str, &str) {
        let r = a.resource.as_ref().expect("a resource request");
        (
            a.verb.as_str(),
            r.group.as_str(),
            r.resource.as_str(),
            r.subresource.as_str(),
            r.namespace.as_str(),
            r.name.as_str(),
        )
    }

    #[test]
    fn verbs_are_derived_as_the_request_info_resolver_does() {
        let a = attrs("GET", "/api/v1/namespaces/x/configmaps", &[]);
        assert_eq!(res(&a), ("list", "", "configmaps", "", "x", ""));
        let a = attrs(
            "GET",
            "/api/v1/namespaces/x/configmaps",
            &[("watch", "true")],
        );
        assert_eq!(a.verb, "watch");
        let a = attrs("GET", "/api/v1/namespaces/x/configmaps", &[("watch", "0")]);
        assert_eq!(a.verb, "list");
        let a = attrs(
            "GET",
            "/api/v1/configmaps",
            &[("fieldSelector", "metadata.name=a")],
        );
        assert_eq!(res(&a), ("list", "", "configmaps", "", "", "a"));
        let a = attrs("DELETE", "/apis/g/v1/namespaces/x/things", &[]);
        assert_eq!(a.verb, "deletecollection");
        let a = attrs("PATCH", "/apis/g/v1/namespaces/x/things/t/status", &[]);
        assert_eq!(res(&a), ("patch", "g", "things", "status", "x", "t"));
        let a = attrs("POST", "/apis/g/v1/things", &[]);
        assert_eq!(res(&a), ("create", "g", "things", "", "", ""));
    }

    #[test]
    fn a_namespace_is_its_own_namespace() {
        let a = attrs("GET", "/api/v1/namespaces/x", &[]);
        assert_eq!(res(&a), ("get", "", "namespaces", "", "x", "x"));
        let a = attrs("PUT", "/api/v1/namespaces/x/status", &[]);
        assert_eq!(res(&a), ("update", "", "namespaces", "status", "x", "x"));
        let a = attrs("GET", "/api/v1/namespaces", &[]);
        assert_eq!(res(&a), ("list", "", "namespaces", "", "", ""));
    }

    #[test]
    fn discovery_and_openapi_are_non_resource_paths() {
        for p in [
            "/api",
            "/api/v1",
            "/apis",
            "/apis/g",
            "/apis/g/v1",
            "/openapi/v3",
            "/version",
        ] {
            let a = attrs("GET", p, &[]);
            assert!(a.resource.is_none(), "{p}");
            assert_eq!(a.verb, "get");
        }
    }

    #[test]
    fn forbidden_messages_are_worded_as_kube_apiserver_words_them() {
        let a = attrs(
            "PATCH",
            "/apis/catalog.charter.dev/v1alpha1/namespaces/payments/services/x/status",
            &[],
        );
        let e = forbidden(&a, "");
        assert_eq!(
            e.message,
            r#"services.catalog.charter.dev "x" is forbidden: User "gus" cannot patch resource "services/status" in API group "catalog.charter.dev" in the namespace "payments""#
        );
        assert_eq!(e.kind.as_deref(), Some("services"));
        assert_eq!(e.group.as_deref(), Some("catalog.charter.dev"));
        assert_eq!(e.name.as_deref(), Some("x"));
        let a = attrs("GET", "/api/v1/namespaces/x/configmaps", &[]);
        assert_eq!(
            forbidden(&a, "").message,
            r#"configmaps is forbidden: User "gus" cannot list resource "configmaps" in API group "" in the namespace "x""#
        );
        let a = attrs(
            "GET",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &[],
        );
        assert!(
            forbidden(&a, "")
                .message
                .ends_with(r#"in API group "apiextensions.k8s.io" at the cluster scope"#)
        );
        let a = attrs("GET", "/apis", &[]);
        assert_eq!(
            forbidden(&a, "").message,
            r#"forbidden: User "gus" cannot get path "/apis""#
        );
        let a = attrs("GET", "/api/v1/namespaces/x/configmaps/c", &[]);
        assert_eq!(
            forbidden(&a, r#"RBAC: role.rbac.authorization.k8s.io "r" not found"#).message,
            r#"configmaps "c" is forbidden: User "gus" cannot get resource "configmaps" in API group "" in the namespace "x": RBAC: role.rbac.authorization.k8s.io "r" not found"#
        );
    }
}
