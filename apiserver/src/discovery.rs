//! Discovery documents: the aggregated form kubectl asks for first (apidiscovery.k8s.io
//! v2 / v2beta1) and the legacy APIVersions / APIGroupList / APIResourceList.

use crate::resource::ResourceInfo;
use serde_json::{Value, json};

/// The content type to answer an aggregated discovery request with, for the asked
/// `api_version` (`apidiscovery.k8s.io/v2` or `apidiscovery.k8s.io/v2beta1`).
pub fn aggregated_content_type(api_version: &str) -> String {
    let v = api_version.rsplit('/').next().unwrap_or("v2");
    format!("application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList")
}

/// Which aggregated discovery version an `Accept` header asks for, if any: the first
/// entry with `g=apidiscovery.k8s.io` and `as=APIGroupDiscoveryList` whose `v` is known.
/// Returns `apidiscovery.k8s.io/v2` or `apidiscovery.k8s.io/v2beta1`.
pub fn wants_aggregated(accept: &str) -> Option<&'static str> {
    for entry in accept.split(',') {
        let mut g = None;
        let mut v = None;
        let mut as_ = None;
        for param in entry.split(';').skip(1) {
            let Some((k, val)) = param.split_once('=') else {
                continue;
            };
            match k.trim() {
                "g" => g = Some(val.trim()),
                "v" => v = Some(val.trim()),
                "as" => as_ = Some(val.trim()),
                _ => {}
            }
        }
        if g == Some("apidiscovery.k8s.io") && as_ == Some("APIGroupDiscoveryList") {
            match v {
                Some("v2") => return Some("apidiscovery.k8s.io/v2"),
                Some("v2beta1") => return Some("apidiscovery.k8s.io/v2beta1"),
                _ => {}
            }
        }
    }
    None
}

fn scope(r: &ResourceInfo) -> &'static str {
    if r.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    }
}

/// Groups in first-seen order, each with its versions in first-seen order.
fn groups(resources: &[ResourceInfo]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version.clone());
                }
            }
            None => out.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    // Prefer the "highest" version first, as the real server orders them (v1 > v1beta1 > v1alpha1).
    for (_, versions) in &mut out {
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
    }
    out
}

/// Kubernetes version priority: GA > beta > alpha, then by major/minor number.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let Ok(major) = digits.parse::<u32>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
        (2, n)
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n)
    } else {
        return (0, 0, 0);
    };
    match num.parse::<u32>() {
        Ok(n) => (level, major, n),
        Err(_) => (0, 0, 0),
    }
}

/// `discovery.StorageVersionHash`: the first 8 bytes of sha256("<group>/<version>/<kind>"),
/// base64. A CRD's single stored version is the one every served version stores in.
fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    use base64::Engine;
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{group}/{version}/{kind}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(&digest.as_ref()[..8])
}

fn status_verbs(r: &ResourceInfo) -> Vec<&'static str> {
    let mut v = vec!["get"];
    if r.verbs.iter().any(|x| x == "patch") {
        v.push("patch");
    }
    if r.verbs.iter().any(|x| x == "update") {
        v.push("update");
    }
    v
}

fn aggregated_resource(r: &ResourceInfo) -> Value {
    let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let mut res = json!({
        "resource": r.plural,
        "responseKind": gvk,
        "scope": scope(r),
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        res["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        res["categories"] = json!(r.categories);
    }
    if r.status_subresource {
        res["subresources"] = json!([{
            "subresource": "status",
            "responseKind": gvk,
            "verbs": status_verbs(r),
        }]);
    }
    res
}

/// `/api` (core = true) or `/apis` (core = false) as an APIGroupDiscoveryList.
/// `api_version` is `apidiscovery.k8s.io/v2` or `apidiscovery.k8s.io/v2beta1`, as asked.
pub fn aggregated(resources: &[ResourceInfo], core: bool, api_version: &str) -> Value {
    let items: Vec<Value> = groups(resources)
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let res: Vec<Value> = resources
                        .iter()
                        .filter(|r| r.group == group && r.version == *version)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": version, "resources": res, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": api_version,
        "metadata": {},
        "items": items,
    })
}

/// Legacy `/api`: APIVersions.
pub fn api_versions() -> Value {
    api_versions_at("127.0.0.1:6443")
}

/// Legacy `/api`: APIVersions with the given server address (`host:port`).
pub fn api_versions_at(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// Legacy `/apis`: APIGroupList.
pub fn api_group_list(resources: &[ResourceInfo]) -> Value {
    let groups: Vec<Value> = groups(resources)
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(group, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            let preferred = vs.first().cloned().unwrap_or(Value::Null);
            json!({"name": group, "versions": vs, "preferredVersion": preferred})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/api/v1` or `/apis/<group>/<version>`: APIResourceList (with `<plural>/status`
/// entries); `None` when nothing is served there.
pub fn api_resource_list(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let served = crate::resource::served_at(resources, group, version)?;
    let mut list = Vec::new();
    for r in served {
        let mut res = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            res["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            res["categories"] = json!(r.categories);
        }
        if r.custom {
            res["storageVersionHash"] = json!(storage_version_hash(&r.group, &r.version, &r.kind));
        }
        list.push(res);
        if r.status_subresource {
            list.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": status_verbs(r),
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": list,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::resource::PrinterColumn;

    fn verbs() -> Vec<String> {
        crate::resource::VERBS.map(String::from).to_vec()
    }

    pub(crate) fn crd_info() -> ResourceInfo {
        ResourceInfo {
            group: "catalog.charter.dev".into(),
            version: "v1alpha1".into(),
            kind: "Service".into(),
            list_kind: "ServiceList".into(),
            plural: "services".into(),
            singular: "service".into(),
            namespaced: true,
            short_names: vec!["csvc".into()],
            categories: vec!["charter".into()],
            verbs: verbs(),
            status_subresource: true,
            printer_columns: vec![
                PrinterColumn {
                    name: "Phase".into(),
                    type_: "string".into(),
                    format: None,
                    description: None,
                    priority: 0,
                    json_path: ".status.phase".into(),
                },
                PrinterColumn {
                    name: "Ready".into(),
                    type_: "string".into(),
                    format: None,
                    description: None,
                    priority: 0,
                    json_path: ".status.conditions[?(@.type==\"Ready\")].status".into(),
                },
                PrinterColumn {
                    name: "Age".into(),
                    type_: "date".into(),
                    format: None,
                    description: None,
                    priority: 0,
                    json_path: ".metadata.creationTimestamp".into(),
                },
            ],
            schema: Some(std::sync::Arc::new(json!({
                "type": "object",
                "description": "A catalogued service.",
                "properties": {
                    "spec": {
                        "type": "object",
                        "description": "Desired state.",
                        "required": ["owner"],
                        "properties": {"owner": {"type": "string", "description": "Owning team."}}
                    },
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                }
            }))),
            custom: true,
            strategy: &crate::resource::Plain,
        }
    }

    pub(crate) fn core_info(kind: &str, plural: &str, namespaced: bool) -> ResourceInfo {
        let plain = &crate::resource::Plain;
        ResourceInfo::builtin(("", "v1"), kind, plural, namespaced, plain)
    }

    #[test]
    fn aggregated_core_and_groups() {
        let rs = vec![core_info("ConfigMap", "configmaps", true), crd_info()];
        let core = aggregated(&rs, true, "apidiscovery.k8s.io/v2");
        assert_eq!(core["kind"], "APIGroupDiscoveryList");
        assert_eq!(core["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        let v = &core["items"][0]["versions"][0];
        assert_eq!(v["version"], "v1");
        assert_eq!(v["freshness"], "Current");
        assert_eq!(v["resources"][0]["resource"], "configmaps");
        assert_eq!(v["resources"][0]["scope"], "Namespaced");
        assert_eq!(v["resources"][0]["responseKind"]["kind"], "ConfigMap");

        let apis = aggregated(&rs, false, "apidiscovery.k8s.io/v2beta1");
        let item = &apis["items"][0];
        assert_eq!(item["metadata"]["name"], "catalog.charter.dev");
        let r = &item["versions"][0]["resources"][0];
        assert_eq!(r["shortNames"], json!(["csvc"]));
        assert_eq!(r["categories"], json!(["charter"]));
        assert_eq!(r["singularResource"], "service");
        assert_eq!(r["subresources"][0]["subresource"], "status");
        assert_eq!(
            r["subresources"][0]["responseKind"]["group"],
            "catalog.charter.dev"
        );
    }

    #[test]
    fn accept_negotiation() {
        let a = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(wants_aggregated(a), Some("apidiscovery.k8s.io/v2"));
        assert_eq!(wants_aggregated("application/json"), None);
        assert_eq!(
            aggregated_content_type("apidiscovery.k8s.io/v2beta1"),
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
        );
    }

    #[test]
    fn legacy_documents() {
        let mut beta = crd_info();
        beta.version = "v1beta1".into();
        let rs = vec![
            core_info("Namespace", "namespaces", false),
            crd_info(),
            beta,
        ];
        let v = api_versions();
        assert_eq!(v["versions"], json!(["v1"]));
        assert_eq!(
            v["serverAddressByClientCIDRs"][0]["clientCIDR"],
            "0.0.0.0/0"
        );
        let gl = api_group_list(&rs);
        assert_eq!(gl["groups"].as_array().unwrap().len(), 1);
        assert_eq!(gl["groups"][0]["preferredVersion"]["version"], "v1beta1");
        let rl = api_resource_list(&rs, "catalog.charter.dev", "v1alpha1").unwrap();
        assert_eq!(rl["groupVersion"], "catalog.charter.dev/v1alpha1");
        let names: Vec<&str> = rl["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["services", "services/status"]);
        let core = api_resource_list(&rs, "", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        assert_eq!(core["resources"][0]["namespaced"], false);
        assert!(api_resource_list(&rs, "nope", "v1").is_none());
    }
}
