//! Impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`, as `kubectl --as`
//! and `--as-group` send them), as k8s.io/apiserver's impersonation filter does it: every
//! part is authorized as the `impersonate` verb for the requester, then the request
//! proceeds as the impersonated user.

use super::request_info::{Attributes, ResourceAttributes, forbidden};
use crate::auth::{
    AUTHENTICATED, UNAUTHENTICATED, User, service_account_groups, service_account_user,
    split_service_account,
};
use crate::error::ApiError;
use crate::shared::Shared;
use axum::http::HeaderMap;

/// One thing to impersonate, as the real filter's object reference.
struct Request {
    kind: &'static str,
    namespace: String,
    name: String,
    /// `authentication.k8s.io/v1` for UIDs and extras.
    api_version: &'static str,
    /// The extra's key.
    field_path: String,
}

impl Request {
    fn new(kind: &'static str, namespace: &str, name: &str) -> Self {
        Request {
            kind,
            namespace: namespace.into(),
            name: name.into(),
            api_version: "",
            field_path: String::new(),
        }
    }

    /// Go's `%v` of the object reference, for the 400 message.
    fn go_value(&self) -> String {
        format!(
            "{{{} {} {}  {}  {}}}",
            self.kind, self.namespace, self.name, self.api_version, self.field_path
        )
    }

    /// What the requester must be allowed: `impersonate` on users, groups,
    /// serviceaccounts, uids or userextras/<key>.
    fn resource(&self) -> ResourceAttributes {
        let (group, resource, subresource) = match self.kind {
            "ServiceAccount" => ("", "serviceaccounts", ""),
            "User" => ("", "users", ""),
            "Group" => ("", "groups", ""),
            "UID" => ("authentication.k8s.io", "uids", ""),
            _ => (
                "authentication.k8s.io",
                "userextras",
                self.field_path.as_str(),
            ),
        };
        ResourceAttributes {
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

fn requests(headers: &HeaderMap) -> Result<Vec<Request>, ApiError> {
    let mut out = Vec::new();
    let user = values(headers, "impersonate-user")
        .first()
        .copied()
        .unwrap_or_default();
    if !user.is_empty() {
        out.push(match split_service_account(user) {
            Some((ns, name)) => Request::new("ServiceAccount", ns, name),
            None => Request::new("User", "", user),
        });
    }
    for g in values(headers, "impersonate-group") {
        out.push(Request::new("Group", "", g));
    }
    let mut extra_keys: Vec<&str> = headers
        .keys()
        .filter_map(|k| k.as_str().strip_prefix("impersonate-extra-"))
        .collect();
    extra_keys.sort_unstable();
    extra_keys.dedup();
    for key in extra_keys {
        for v in values(headers, &format!("impersonate-extra-{key}")) {
            let mut r = Request::new("UserExtra", "", v);
            r.api_version = "authentication.k8s.io/v1";
            r.field_path = key.to_string();
            out.push(r);
        }
    }
    let uid = values(headers, "impersonate-uid")
        .first()
        .copied()
        .unwrap_or_default();
    if !uid.is_empty() {
        let mut r = Request::new("UID", "", uid);
        r.api_version = "authentication.k8s.io/v1";
        out.push(r);
    }
    if user.is_empty() && !out.is_empty() {
        let list: Vec<String> = out.iter().map(Request::go_value).collect();
        return Err(ApiError::bad_request(format!(
            "requested [{}] without impersonating a user",
            list.join(" ")
        )));
    }
    Ok(out)
}

/// The user a request acts as: the requester, or whom it impersonates when allowed to.
pub fn act_as(shared: &Shared, requester: User, headers: &HeaderMap) -> Result<User, ApiError> {
    let wanted = requests(headers)?;
    if wanted.is_empty() {
        return Ok(requester);
    }
    let groups_given = !values(headers, "impersonate-group").is_empty();
    let mut name = String::new();
    let mut groups: Vec<String> = Vec::new();
    let mut uid = None;
    for w in &wanted {
        let attrs = Attributes {
            user: requester.clone(),
            verb: "impersonate".into(),
            path: String::new(),
            resource: Some(w.resource()),
        };
        let decision = shared.authz.authorize(&attrs);
        if !decision.allowed {
            return Err(forbidden(&attrs, &decision.reason));
        }
        match w.kind {
            "ServiceAccount" => {
                name = service_account_user(&w.namespace, &w.name);
                if !groups_given {
                    groups = service_account_groups(&w.namespace);
                }
            }
            "User" => name = w.name.clone(),
            "Group" => groups.push(w.name.clone()),
            "UID" => uid = Some(w.name.clone()),
            // Extras are authorized but not kept: nothing here reads them.
            _ => {}
        }
    }
    let has = |g: &str| groups.iter().any(|x| x == g);
    if name != "system:anonymous" {
        if !has(AUTHENTICATED) && !has(UNAUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
    } else if !has(UNAUTHENTICATED) {
        groups.push(UNAUTHENTICATED.into());
    }
    Ok(User { name, groups, uid })
}
