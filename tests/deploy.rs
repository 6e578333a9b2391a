//! `deploy/` as a platform engineer installs it: `kubectl kustomize deploy/` renders, every
//! object validates against the official schemas, and the operator's RBAC is least privilege.

use serde_json::Value;
use std::process::Command;

fn rendered() -> Option<(String, Vec<Value>)> {
    rendered_from("deploy")
}

/// `kubectl kustomize <dir>` (`deploy`, or an overlay of it), parsed.
fn rendered_from(dir: &str) -> Option<(String, Vec<Value>)> {
    testkit::kubectl::probe()?;
    let out = testkit::kubectl::command()
        .arg("kustomize")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}/ failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).expect("utf-8");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("rendered YAML parses");
    Some((yaml, docs.into_iter().filter(|d| !d.is_null()).collect()))
}

fn kind_name(o: &Value) -> (String, String) {
    let s = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("/kind"), s("/metadata/name"))
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| kind_name(d) == (kind.into(), name.into()))
        .unwrap_or_else(|| panic!("deploy/ has no {kind} {name}"))
}

/// The object of that kind and name in that namespace (a Role's name repeats across namespaces).
fn find_in<'a>(docs: &'a [Value], kind: &str, namespace: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| {
            kind_name(d) == (kind.into(), name.into())
                && d.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace)
        })
        .unwrap_or_else(|| panic!("deploy/ has no {kind} {namespace}/{name}"))
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Kustomize prints `32.0` as `32`: compare numbers by value.
fn numbers_as_f64(v: Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect())
        }
        other => other,
    }
}

fn rules(role: &Value) -> &[Value] {
    role.get("rules")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[test]
fn deploy_renders_every_piece_of_an_installation() {
    let Some((_, docs)) = rendered() else { return };
    for (kind, name) in [
        ("Namespace", "charter-system"),
        ("Namespace", "charter-catalog"),
        ("CustomResourceDefinition", "services.catalog.charter.dev"),
        (
            "CustomResourceDefinition",
            "serviceapprovals.catalog.charter.dev",
        ),
        ("ServiceAccount", "charter"),
        ("ClusterRole", "charter-operator"),
        ("Role", "charter-operator"),
        ("ClusterRole", "charter-owner"),
        ("ClusterRole", "charter-approver"),
        ("ClusterRole", "charter-viewer"),
        ("ClusterRole", "charter-catalog-reader"),
        ("ClusterRole", "charter-metrics-reader"),
        ("ValidatingAdmissionPolicy", "charter-approval-approver"),
        ("ValidatingAdmissionPolicy", "charter-status-writer"),
        ("MutatingAdmissionPolicy", "charter-service-created-by"),
        ("MutatingAdmissionPolicy", "charter-service-revised-by"),
        (
            "MutatingAdmissionPolicy",
            "charter-service-phase-requested-by",
        ),
        ("ValidatingAdmissionPolicy", "charter-service-identity"),
        ("ValidatingAdmissionPolicy", "charter-service-owner"),
        ("MutatingAdmissionPolicy", "charter-approval-recorder"),
        ("ValidatingAdmissionPolicy", "charter-approval-recorder"),
        ("Deployment", "charter"),
        ("PodDisruptionBudget", "charter"),
        ("Service", "charter-metrics"),
    ] {
        find(&docs, kind, name);
    }
    // The CRDs shipped are the generated ones.
    let crds = charter::crds::yaml();
    let generated: Vec<Value> = serde_saphyr::from_multiple(&crds).expect("crds parse");
    for crd in generated.iter().filter(|d| !d.is_null()) {
        let (_, name) = kind_name(crd);
        let mut shipped = find(&docs, "CustomResourceDefinition", &name).clone();
        shipped["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("labels");
        assert_eq!(
            numbers_as_f64(shipped),
            numbers_as_f64(crd.clone()),
            "deploy/ ships the generated CRD {name}"
        );
    }
}

#[test]
fn deploy_validates_against_the_official_schemas() {
    let Some((yaml, _)) = rendered() else { return };
    let Some(validate) = testkit::kubernetes_validate() else {
        return;
    };
    // Every document kustomize rendered, by its top-level `kind:` line.
    let objects = yaml.lines().filter(|l| l.starts_with("kind: ")).count();
    assert!(objects >= 27, "deploy/ renders its objects: {objects}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("deploy.yaml");
    std::fs::write(&file, yaml).expect("write");
    let out = Command::new(validate)
        .args(["--strict", "--kubernetes-version", "1.36.0"])
        .arg(&file)
        .output()
        .expect("kubernetes-validate runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "kubernetes-validate failed:\n{text}");
    assert_eq!(
        text.matches("passed for resource").count(),
        objects,
        "every object was validated:\n{text}"
    );
}

#[test]
fn operator_rbac_is_least_privilege() {
    let Some((_, docs)) = rendered() else { return };
    let cluster = find(&docs, "ClusterRole", "charter-operator");
    let local = find_in(&docs, "Role", "charter-system", "charter-operator");
    let catalog = find_in(&docs, "Role", "charter-catalog", "charter-operator");
    for rule in rules(cluster)
        .iter()
        .chain(rules(local))
        .chain(rules(catalog))
    {
        for key in ["apiGroups", "resources", "verbs", "resourceNames"] {
            assert!(
                !strings(rule, key).iter().any(|s| s.contains('*')),
                "no wildcard in {rule}"
            );
        }
    }
    let grants = |role: &Value, resource: &str| -> Vec<String> {
        rules(role)
            .iter()
            .filter(|r| strings(r, "resources").iter().any(|x| x == resource))
            .flat_map(|r| strings(r, "verbs"))
            .collect()
    };
    // ConfigMaps: read only in the catalog's namespace, none in its own (charter-admission
    // configures its policies); cluster-wide it writes (never reads) the copies of the catalog,
    // which the admission policy charter-catalog-mirror narrows to the catalog's names in
    // namespaces that opt in.
    assert_eq!(
        grants(catalog, "configmaps"),
        ["get", "list", "watch", "create", "patch", "delete"]
    );
    assert!(grants(local, "configmaps").is_empty());
    // Secrets: only get, only in its own namespace (the notification sinks' credentials).
    assert!(grants(cluster, "secrets").is_empty());
    assert!(grants(catalog, "secrets").is_empty());
    assert_eq!(grants(local, "secrets"), ["get"]);
    assert_eq!(grants(cluster, "configmaps"), ["create", "patch", "delete"]);
    assert_eq!(grants(cluster, "namespaces"), ["list", "watch"]);
    // /metrics: who calls, and may they (what system:auth-delegator grants).
    assert_eq!(grants(cluster, "tokenreviews"), ["create"]);
    assert_eq!(grants(cluster, "subjectaccessreviews"), ["create"]);
    let mirror = find(&docs, "ValidatingAdmissionPolicy", "charter-catalog-mirror");
    let rule: String = mirror["spec"]["validations"]
        .as_array()
        .expect("the policy has its validations")
        .iter()
        .filter_map(|v| v["expression"].as_str())
        .collect();
    for words in [
        "params.data.operator",
        "params.data.catalogNamespace",
        "params.data.catalogName",
        "namespaceObject.metadata.labels['catalog.charter.dev/mirror'] == 'true'",
    ] {
        assert!(rule.contains(words), "the policy checks {words}: {rule}");
    }
    let binding = find(
        &docs,
        "ValidatingAdmissionPolicyBinding",
        "charter-catalog-mirror",
    );
    assert_eq!(
        binding["spec"]["validationActions"],
        serde_json::json!(["Deny"])
    );
    assert!(
        grants(cluster, "leases").is_empty(),
        "Leases only in its namespace"
    );
    assert_eq!(grants(cluster, "events"), ["create", "patch"]);
    assert_eq!(grants(cluster, "services/status"), ["patch"]);
    assert_eq!(grants(cluster, "services"), ["get", "list", "watch"]);
    // Bound to the operator's ServiceAccount only.
    for binding in [
        find(&docs, "ClusterRoleBinding", "charter-operator"),
        find_in(&docs, "RoleBinding", "charter-system", "charter-operator"),
        find_in(&docs, "RoleBinding", "charter-catalog", "charter-operator"),
    ] {
        let subjects = binding["subjects"].as_array().expect("subjects");
        assert_eq!(subjects.len(), 1);
        assert_eq!(subjects[0]["kind"], "ServiceAccount");
        assert_eq!(subjects[0]["name"], "charter");
    }
}

#[test]
fn user_roles_keep_status_and_the_audit_trail_out_of_reach() {
    let Some((_, docs)) = rendered() else { return };
    for name in [
        "charter-owner",
        "charter-approver",
        "charter-viewer",
        "charter-catalog-reader",
    ] {
        for rule in rules(find(&docs, "ClusterRole", name)) {
            let resources = strings(rule, "resources");
            let verbs = strings(rule, "verbs");
            assert!(!resources.iter().any(|r| r.contains('*')), "{rule}");
            if resources.iter().any(|r| r.ends_with("/status")) {
                assert!(
                    verbs
                        .iter()
                        .all(|v| ["get", "list", "watch"].contains(&v.as_str())),
                    "{name} may only read status: {rule}"
                );
            }
            if resources.iter().any(|r| r == "serviceapprovals") {
                for verb in ["update", "patch", "delete", "deletecollection"] {
                    assert!(
                        !verbs.iter().any(|v| v == verb),
                        "{name} may not {verb} approvals"
                    );
                }
            }
        }
    }
    // Prometheus gets /metrics through this role, and nothing else.
    assert_eq!(
        rules(find(&docs, "ClusterRole", "charter-metrics-reader")),
        [serde_json::json!({"nonResourceURLs": ["/metrics"], "verbs": ["get"]})]
    );
    // The catalog is readable by everyone only in its own namespace.
    let readers = find_in(
        &docs,
        "RoleBinding",
        "charter-catalog",
        "charter-catalog-readers",
    );
    assert_eq!(readers["roleRef"]["name"], "charter-catalog-reader");
    assert_eq!(readers["subjects"][0]["name"], "system:authenticated");
    assert!(
        !docs.iter().any(|d| d["kind"] == "RoleBinding"
            && d["metadata"]["namespace"] == "charter-system"
            && d["roleRef"]["name"] == "charter-catalog-reader"),
        "nobody but the operator reads charter-system's ConfigMaps"
    );
    let aggregated = |name: &str, into: &str| {
        find(&docs, "ClusterRole", name)
            .pointer(&format!(
                "/metadata/labels/rbac.authorization.k8s.io~1aggregate-to-{into}"
            ))
            .and_then(Value::as_str)
            == Some("true")
    };
    assert!(aggregated("charter-owner", "edit") && aggregated("charter-owner", "admin"));
    assert!(aggregated("charter-approver", "edit"));
    assert!(aggregated("charter-viewer", "view"));
    assert!(!aggregated("charter-owner", "view"), "view stays read-only");
}

#[test]
fn the_deployment_is_hardened() {
    let Some((_, docs)) = rendered() else { return };
    let d = find(&docs, "Deployment", "charter");
    assert_eq!(d.pointer("/spec/replicas"), Some(&Value::from(2)));
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "charter");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let c = &pod["containers"][0];
    assert!(strings(c, "args").contains(&"--leader-elect".to_string()));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        c["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(c["resources"]["requests"]["memory"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string());
}

/// On each Kubernetes minor, what the sandbox installs is what the kustomization for that minor
/// renders: `deploy/` from 1.36, `deploy-kubernetes-1.35/` (MutatingAdmissionPolicy v1beta1)
/// on 1.34 and 1.35.
#[test]
fn the_sandbox_enforces_the_objects_deploy_installs() {
    for (dir, version) in [
        ("deploy", "v1.37.2"),
        ("deploy", "v1.36.0"),
        ("deploy-kubernetes-1.35", "v1.35.4"),
    ] {
        let Some((_, docs)) = rendered_from(dir) else {
            return;
        };
        the_same_objects(&docs, version);
    }
}

fn the_same_objects(docs: &[Value], version: &str) {
    let docs = docs.to_vec();
    let compiled = charter::deploy::for_version(charter::deploy::security_objects(&[]), version);
    assert!(compiled.len() >= 15, "{} objects", compiled.len());
    for object in compiled {
        let (kind, name) = kind_name(&object);
        let mut shipped = match object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
        {
            Some(namespace) => find_in(&docs, &kind, namespace, &name),
            None => find(&docs, &kind, &name),
        }
        .clone();
        // The only difference kustomize makes: the common label.
        let labels = shipped["metadata"]["labels"]
            .as_object_mut()
            .expect("kustomize labels every object");
        labels.remove("app.kubernetes.io/part-of");
        if labels.is_empty() {
            shipped["metadata"]
                .as_object_mut()
                .expect("metadata")
                .remove("labels");
        }
        assert_eq!(shipped, object, "{kind} {name} for {version}");
    }
}
