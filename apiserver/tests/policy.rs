//! Admission policies as the Kubernetes docs ("Validating Admission Policy", "Mutating
//! Admission Policy") describe them: bindings, match rules and selectors, messages and
//! reasons, actions, failure policies, params, and mutations stamping the requester.

mod common;

use charter_apiserver::{ApiServer, Config, UserSpec};
use serde_json::{Value, json};
use test_programs::kubectl::Kubectl;

const CATALOG: &str = "/apis/catalog.charter.dev/v1alpha1";
const ADMISSION: &str = "/apis/admissionregistration.k8s.io/v1";

fn crd(plural: &str, kind: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.catalog.charter.dev")},
        "spec": {
            "group": "catalog.charter.dev", "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": spec},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                }}}}],
        }
    })
}

struct Cluster {
    server: ApiServer,
    admin: kube::Client,
    dana: kube::Client,
    erin: kube::Client,
}

/// Users `dana` and `erin`; the catalog kinds; namespaces `prod` (env=prod) and `dev`.
async fn cluster() -> Cluster {
    let server = ApiServer::start(Config {
        users: vec![
            UserSpec::new("dana", &["owners"]),
            UserSpec::new("erin", &["approvers"]),
        ],
        ..Config::default()
    })
    .await
    .expect("server starts");
    server
        .install_crd_values(vec![
            crd(
                "services",
                "Service",
                json!({"owner": {"type": "string"}, "size": {"type": "integer"}, "tier": {"type": "string"}}),
            ),
            crd(
                "serviceapprovals",
                "ServiceApproval",
                json!({"serviceName": {"type": "string"}, "approver": {"type": "string"}}),
            ),
        ])
        .expect("CRDs install");
    let c = Cluster {
        admin: server.client_for("admin").await.expect("client"),
        dana: server.client_for("dana").await.expect("client"),
        erin: server.client_for("erin").await.expect("client"),
        server,
    };
    for (ns, env) in [("prod", "prod"), ("dev", "dev")] {
        let r = post(
            &c.admin,
            "/api/v1/namespaces",
            json!({"metadata": {"name": ns, "labels": {"env": env}}}),
        )
        .await;
        assert_eq!(r.code, 201, "{}", r.body);
    }
    // Authorization is not what these tests are about: both users may write everything
    // the policies are tried on, so every refusal below is the policies'.
    let rbac = "/apis/rbac.authorization.k8s.io/v1";
    let r = post(
        &c.admin,
        &format!("{rbac}/clusterroles"),
        json!({"metadata": {"name": "policy-tests"}, "rules": [
            {"apiGroups": ["catalog.charter.dev"], "resources": ["*"], "verbs": ["*"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]},
        ]}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.body);
    let r = post(
        &c.admin,
        &format!("{rbac}/clusterrolebindings"),
        json!({"metadata": {"name": "policy-tests"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "policy-tests"},
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "owners"},
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "approvers"},
            ]}),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.body);
    c
}

struct Reply {
    code: u16,
    body: Value,
    warnings: Vec<String>,
}

async fn call(c: &kube::Client, method: &str, path: &str, ct: &str, body: Option<Value>) -> Reply {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", ct)
        .body(kube::client::Body::from(bytes))
        .expect("request");
    let resp = c.send(req).await.expect("sent");
    let code = resp.status().as_u16();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    let bytes = resp.into_body().collect_bytes().await.expect("body");
    Reply {
        code,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        warnings,
    }
}

async fn post(c: &kube::Client, path: &str, body: Value) -> Reply {
    call(c, "POST", path, "application/json", Some(body)).await
}

async fn create_ok(c: &kube::Client, path: &str, body: Value) {
    let r = post(c, path, body).await;
    assert_eq!(r.code, 201, "{}", r.body);
}

fn service(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "catalog.charter.dev/v1alpha1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

fn services(ns: &str) -> String {
    format!("{CATALOG}/namespaces/{ns}/services")
}

/// A policy on `resources` (catalog group) for `operations` with `spec` merged in.
fn vap(name: &str, resources: &[&str], operations: &[&str], spec: Value) -> Value {
    let mut v = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"matchConstraints": {"resourceRules": [{
            "apiGroups": ["catalog.charter.dev"], "apiVersions": ["*"],
            "operations": operations, "resources": resources,
        }]}},
    });
    if let (Some(s), Some(extra)) = (v["spec"].as_object_mut(), spec.as_object()) {
        s.extend(extra.clone());
    }
    v
}

fn binding(name: &str, policy: &str, actions: &[&str], spec: Value) -> Value {
    let mut v = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": policy, "validationActions": actions},
    });
    if let (Some(s), Some(extra)) = (v["spec"].as_object_mut(), spec.as_object()) {
        s.extend(extra.clone());
    }
    v
}

/// Install a validating policy and a binding of the same name.
async fn install(c: &Cluster, policy: Value, actions: &[&str], binding_spec: Value) {
    let name = policy["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    create_ok(
        &c.admin,
        &format!("{ADMISSION}/validatingadmissionpolicies"),
        policy,
    )
    .await;
    create_ok(
        &c.admin,
        &format!("{ADMISSION}/validatingadmissionpolicybindings"),
        binding(&name, &name, actions, binding_spec),
    )
    .await;
}

#[tokio::test]
async fn a_forbidden_reason_denies_with_403_and_the_real_servers_words() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "approver-is-requester",
            &["serviceapprovals"],
            &["CREATE", "UPDATE"],
            json!({"validations": [{
                "expression": "object.spec.approver == request.userInfo.username",
                "message": "spec.approver must be the requesting user",
                "reason": "Forbidden",
            }]}),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
    let approvals = format!("{CATALOG}/namespaces/default/serviceapprovals");
    let approval = |approver: &str| {
        json!({"apiVersion": "catalog.charter.dev/v1alpha1", "kind": "ServiceApproval",
               "metadata": {"name": "a1"}, "spec": {"serviceName": "ledger", "approver": approver}})
    };
    let r = post(&c.dana, &approvals, approval("erin")).await;
    assert_eq!(r.code, 403, "{}", r.body);
    assert_eq!(r.body["reason"], "Forbidden");
    let denied = "ValidatingAdmissionPolicy 'approver-is-requester' with binding 'approver-is-requester' denied request: spec.approver must be the requesting user";
    assert_eq!(
        r.body["message"],
        format!("serviceapprovals.catalog.charter.dev \"a1\" is forbidden: {denied}")
    );
    assert_eq!(r.body["details"]["causes"][0]["message"], denied);
    assert_eq!(r.body["details"]["kind"], "serviceapprovals");
    assert_eq!(r.body["details"]["group"], "catalog.charter.dev");

    let r = post(&c.erin, &approvals, approval("erin")).await;
    assert_eq!(r.code, 201, "the approver herself may: {}", r.body);
}

#[tokio::test]
async fn without_a_reason_the_denial_is_invalid_422_naming_the_failed_expression() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "small",
            &["services"],
            &["*"],
            json!({"validations": [{"expression": "object.spec.size <= 5"}]}),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
    let r = post(
        &c.admin,
        &services("default"),
        service("big", json!({"size": 9})),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
    assert_eq!(r.body["reason"], "Invalid");
    assert_eq!(
        r.body["message"],
        "services.catalog.charter.dev \"big\" is forbidden: ValidatingAdmissionPolicy 'small' with binding 'small' denied request: failed expression: object.spec.size <= 5"
    );
    create_ok(
        &c.admin,
        &services("default"),
        service("tiny", json!({"size": 2})),
    )
    .await;

    // A dry run is admitted as any other write.
    let r = call(
        &c.admin,
        "POST",
        &format!("{}?dryRun=All", services("default")),
        "application/json",
        Some(service("big", json!({"size": 9}))),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
}

#[tokio::test]
async fn a_message_expression_composes_the_message() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "small",
            &["services"],
            &["CREATE"],
            json!({"validations": [{
                "expression": "object.spec.size <= 5",
                "message": "static fallback",
                "messageExpression": "'size ' + string(object.spec.size) + ' is over 5 for ' + request.userInfo.username",
            }]}),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
    let r = post(
        &c.dana,
        &services("default"),
        service("big", json!({"size": 9})),
    )
    .await;
    assert_eq!(r.code, 422);
    let msg = r.body["message"].as_str().unwrap_or_default();
    assert!(
        msg.ends_with("denied request: size 9 is over 5 for dana"),
        "{msg}"
    );
}

#[tokio::test]
async fn match_conditions_must_all_hold_for_the_policy_to_apply() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "gold-has-owner",
            &["services"],
            &["CREATE"],
            json!({
                "matchConditions": [
                    {"name": "gold", "expression": "has(object.spec.tier) && object.spec.tier == 'gold'"},
                    {"name": "not-admin", "expression": "request.userInfo.username != 'admin'"},
                ],
                "validations": [{"expression": "has(object.spec.owner)", "message": "gold services need an owner"}],
            }),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
    let r = post(
        &c.dana,
        &services("default"),
        service("g", json!({"tier": "gold"})),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
    create_ok(
        &c.dana,
        &services("default"),
        service("s", json!({"tier": "silver"})),
    )
    .await;
    create_ok(
        &c.admin,
        &services("default"),
        service("g", json!({"tier": "gold"})),
    )
    .await;
}

#[tokio::test]
async fn a_policy_without_a_binding_does_nothing() {
    let c = cluster().await;
    create_ok(
        &c.admin,
        &format!("{ADMISSION}/validatingadmissionpolicies"),
        vap(
            "never",
            &["services"],
            &["*"],
            json!({"validations": [{"expression": "false"}]}),
        ),
    )
    .await;
    create_ok(&c.admin, &services("default"), service("x", json!({}))).await;
}

#[tokio::test]
async fn a_bindings_namespace_selector_narrows_the_policy() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "owned-in-prod",
            &["services"],
            &["CREATE"],
            json!({"validations": [{"expression": "has(object.spec.owner)"}]}),
        ),
        &["Deny"],
        json!({"matchResources": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}}),
    )
    .await;
    let r = post(&c.admin, &services("prod"), service("x", json!({}))).await;
    assert_eq!(r.code, 422, "{}", r.body);
    create_ok(&c.admin, &services("dev"), service("x", json!({}))).await;
    create_ok(
        &c.admin,
        &services("prod"),
        service("y", json!({"owner": "dana"})),
    )
    .await;
}

#[tokio::test]
async fn the_warn_action_admits_with_a_warning_header() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "owner-wanted",
            &["services"],
            &["CREATE"],
            json!({"validations": [{"expression": "has(object.spec.owner)", "message": "no owner"}]}),
        ),
        &["Warn", "Audit"],
        json!({}),
    )
    .await;
    let r = post(&c.admin, &services("default"), service("x", json!({}))).await;
    assert_eq!(r.code, 201, "{}", r.body);
    assert_eq!(
        r.warnings,
        vec![
            "299 - \"Validation failed for ValidatingAdmissionPolicy 'owner-wanted' with binding 'owner-wanted': no owner\""
                .to_string()
        ]
    );
}

#[tokio::test]
async fn an_evaluation_error_denies_under_fail_and_is_ignored_under_ignore() {
    let c = cluster().await;
    for (name, policy) in [("strict", "Fail"), ("lenient", "Ignore")] {
        let resource = if policy == "Fail" {
            "services"
        } else {
            "serviceapprovals"
        };
        install(
            &c,
            vap(
                name,
                &[resource],
                &["CREATE"],
                json!({"failurePolicy": policy, "validations": [{"expression": "object.spec.missing.deeper == 1"}]}),
            ),
            &["Deny"],
            json!({}),
        )
        .await;
    }
    let r = post(&c.admin, &services("default"), service("x", json!({}))).await;
    assert_eq!(r.code, 422, "{}", r.body);
    let msg = r.body["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("ValidatingAdmissionPolicy 'strict' with binding 'strict' denied request: expression 'object.spec.missing.deeper == 1' resulted in error: "),
        "{msg}"
    );
    create_ok(
        &c.admin,
        &format!("{CATALOG}/namespaces/default/serviceapprovals"),
        json!({"apiVersion": "catalog.charter.dev/v1alpha1", "kind": "ServiceApproval", "metadata": {"name": "a"}, "spec": {}}),
    )
    .await;
}

#[tokio::test]
async fn params_come_from_a_config_map_named_by_the_binding() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "max-size",
            &["services"],
            &["CREATE"],
            json!({
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "validations": [{"expression": "object.spec.size <= int(params.data.maxSize)", "messageExpression": "'size must be at most ' + params.data.maxSize"}],
            }),
        ),
        &["Deny"],
        json!({"paramRef": {"name": "limits", "namespace": "default", "parameterNotFoundAction": "Deny"}}),
    )
    .await;
    let r = post(&c.admin, &services("dev"), service("a", json!({"size": 1}))).await;
    assert_eq!(r.code, 422, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap_or_default().ends_with(
            "denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
        ),
        "{}",
        r.body
    );
    create_ok(
        &c.admin,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "limits"}, "data": {"maxSize": "3"}}),
    )
    .await;
    create_ok(&c.admin, &services("dev"), service("a", json!({"size": 1}))).await;
    let r = post(&c.admin, &services("dev"), service("b", json!({"size": 4}))).await;
    assert_eq!(r.code, 422, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("denied request: size must be at most 3"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_delete_is_validated_with_the_old_object_and_no_object() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "keep-big",
            &["services"],
            &["DELETE"],
            json!({"validations": [{"expression": "object == null && oldObject.spec.size < 10", "message": "big services stay"}]}),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
    create_ok(
        &c.admin,
        &services("default"),
        service("big", json!({"size": 20})),
    )
    .await;
    create_ok(
        &c.admin,
        &services("default"),
        service("small", json!({"size": 1})),
    )
    .await;
    let r = call(
        &c.admin,
        "DELETE",
        &format!("{}/big", services("default")),
        "application/json",
        None,
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
    assert_eq!(
        r.body["message"],
        "services.catalog.charter.dev \"big\" is forbidden: ValidatingAdmissionPolicy 'keep-big' with binding 'keep-big' denied request: big services stay"
    );
    let r = call(
        &c.admin,
        "DELETE",
        &format!("{}/small", services("default")),
        "application/json",
        None,
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.body);
}

#[tokio::test]
async fn a_rule_on_the_status_subresource_matches_status_writes_only() {
    let c = cluster().await;
    install(
        &c,
        vap(
            "no-bad-phase",
            &["services/status"],
            &["UPDATE"],
            json!({"validations": [{"expression": "object.status.phase != 'Bad'"}]}),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
    create_ok(&c.admin, &services("default"), service("x", json!({}))).await;
    let patch = |phase: &str| Some(json!({"status": {"phase": phase}}));
    let status = format!("{}/x/status", services("default"));
    let r = call(
        &c.admin,
        "PATCH",
        &status,
        "application/merge-patch+json",
        patch("Bad"),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
    let r = call(
        &c.admin,
        "PATCH",
        &status,
        "application/merge-patch+json",
        patch("Good"),
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.body);
    let main = format!("{}/x", services("default"));
    let r = call(
        &c.admin,
        "PATCH",
        &main,
        "application/merge-patch+json",
        Some(json!({"spec": {"tier": "Bad"}})),
    )
    .await;
    assert_eq!(
        r.code, 200,
        "a main-resource write is not a status write: {}",
        r.body
    );
}

#[tokio::test]
async fn internal_writes_pass_through_admission_too() {
    let c = cluster().await;
    let mut p = vap(
        "no-blocked-namespaces",
        &["namespaces"],
        &["CREATE"],
        json!({"validations": [{"expression": "!object.metadata.name.startsWith('blocked')"}]}),
    );
    p["spec"]["matchConstraints"]["resourceRules"][0]["apiGroups"] = json!([""]);
    install(&c, p, &["Deny"], json!({})).await;
    let err = c.server.create_namespace("blocked-1").expect_err("denied");
    assert!(err.to_string().contains("is forbidden"), "{err}");
    c.server.create_namespace("open-1").expect("admitted");
}

#[tokio::test]
async fn a_policy_that_does_not_compile_is_invalid_naming_the_field() {
    let c = cluster().await;
    let r = post(
        &c.admin,
        &format!("{ADMISSION}/validatingadmissionpolicies"),
        vap(
            "bad",
            &["services"],
            &["*"],
            json!({"validations": [{"expression": "object.spec.size <="}]}),
        ),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
    let msg = r.body["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("ValidatingAdmissionPolicy.admissionregistration.k8s.io \"bad\" is invalid: spec.validations[0].expression: Invalid value: \"object.spec.size <=\": compilation failed: "),
        "{msg}"
    );
    assert_eq!(
        r.body["details"]["causes"][0]["field"],
        "spec.validations[0].expression"
    );

    let r = post(
        &c.admin,
        &format!("{ADMISSION}/validatingadmissionpolicybindings"),
        binding("b", "p", &["Deny", "Warn"], json!({})),
    )
    .await;
    assert_eq!(r.code, 422, "{}", r.body);
    assert_eq!(
        r.body["details"]["causes"][0]["field"],
        "spec.validationActions"
    );
}

// --- MutatingAdmissionPolicy -------------------------------------------------------

const CREATED_BY: &str = "catalog.charter.dev/created-by";

fn map_policy(name: &str, mutation: Value) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "matchConstraints": {"resourceRules": [{
                "apiGroups": ["catalog.charter.dev"], "apiVersions": ["v1alpha1"],
                "operations": ["CREATE"], "resources": ["services"],
            }]},
            "reinvocationPolicy": "Never",
            "mutations": [mutation],
        },
    })
}

async fn install_mutating(c: &Cluster, policy: Value) {
    let name = policy["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    create_ok(
        &c.admin,
        &format!("{ADMISSION}/mutatingadmissionpolicies"),
        policy,
    )
    .await;
    create_ok(
        &c.admin,
        &format!("{ADMISSION}/mutatingadmissionpolicybindings"),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingAdmissionPolicyBinding",
               "metadata": {"name": name}, "spec": {"policyName": name}}),
    )
    .await;
}

/// The creator annotation is immutable once stamped.
async fn install_created_by_is_immutable(c: &Cluster) {
    install(
        c,
        vap(
            "created-by-immutable",
            &["services"],
            &["UPDATE"],
            json!({
                "variables": [
                    {"name": "key", "expression": format!("'{CREATED_BY}'")},
                    {"name": "was", "expression": "has(oldObject.metadata.annotations) && variables.key in oldObject.metadata.annotations ? oldObject.metadata.annotations[variables.key] : ''"},
                    {"name": "now", "expression": "has(object.metadata.annotations) && variables.key in object.metadata.annotations ? object.metadata.annotations[variables.key] : ''"},
                ],
                "validations": [{"expression": "variables.was == variables.now", "message": format!("{CREATED_BY} is immutable"), "reason": "Forbidden"}],
            }),
        ),
        &["Deny"],
        json!({}),
    )
    .await;
}

async fn created_by_is_stamped_and_kept(c: &Cluster) {
    let r = post(
        &c.dana,
        &services("default"),
        service("x", json!({"owner": "dana"})),
    )
    .await;
    assert_eq!(r.code, 201, "{}", r.body);
    assert_eq!(
        r.body["metadata"]["annotations"][CREATED_BY], "dana",
        "{}",
        r.body
    );
    let r = post(&c.erin, &services("default"), service("y", json!({}))).await;
    assert_eq!(
        r.body["metadata"]["annotations"][CREATED_BY], "erin",
        "{}",
        r.body
    );

    let x = format!("{}/x", services("default"));
    let forge = json!({"metadata": {"annotations": {CREATED_BY: "erin"}}});
    let r = call(
        &c.erin,
        "PATCH",
        &x,
        "application/merge-patch+json",
        Some(forge),
    )
    .await;
    assert_eq!(r.code, 403, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("denied request: {CREATED_BY} is immutable")),
        "{}",
        r.body
    );
    let r = call(
        &c.erin,
        "PATCH",
        &x,
        "application/merge-patch+json",
        Some(json!({"spec": {"tier": "gold"}})),
    )
    .await;
    assert_eq!(r.code, 200, "{}", r.body);
    assert_eq!(r.body["metadata"]["annotations"][CREATED_BY], "dana");
}

#[tokio::test]
async fn an_apply_configuration_stamps_the_creator() {
    let c = cluster().await;
    install_mutating(
        &c,
        map_policy(
            "created-by",
            json!({"patchType": "ApplyConfiguration", "applyConfiguration": {"expression":
                format!("Object{{metadata: Object.metadata{{annotations: {{\"{CREATED_BY}\": request.userInfo.username}}}}}}")}}),
        ),
    )
    .await;
    install_created_by_is_immutable(&c).await;
    created_by_is_stamped_and_kept(&c).await;
}

#[tokio::test]
async fn a_json_patch_stamps_the_creator() {
    let c = cluster().await;
    let expression = format!(
        "(has(object.metadata.annotations) ? [] : [JSONPatch{{op: \"add\", path: \"/metadata/annotations\", value: {{}}}}]) + \
         [JSONPatch{{op: \"add\", path: \"/metadata/annotations/\" + jsonpatch.escapeKey(\"{CREATED_BY}\"), value: request.userInfo.username}}]"
    );
    install_mutating(
        &c,
        map_policy(
            "created-by",
            json!({"patchType": "JSONPatch", "jsonPatch": {"expression": expression}}),
        ),
    )
    .await;
    install_created_by_is_immutable(&c).await;
    created_by_is_stamped_and_kept(&c).await;
    // An object that already has annotations keeps them.
    let mut s = service("z", json!({}));
    s["metadata"]["annotations"] = json!({"team": "a"});
    let r = post(&c.dana, &services("default"), s).await;
    assert_eq!(
        r.body["metadata"]["annotations"],
        json!({"team": "a", CREATED_BY: "dana"})
    );
}

#[tokio::test]
async fn a_failing_mutation_denies_under_fail() {
    let c = cluster().await;
    install_mutating(
        &c,
        map_policy(
            "broken",
            json!({"patchType": "JSONPatch", "jsonPatch": {"expression": "[JSONPatch{op: 'replace', path: '/spec/absent', value: 1}]"}}),
        ),
    )
    .await;
    let r = post(&c.admin, &services("default"), service("x", json!({}))).await;
    assert_eq!(r.code, 403, "{}", r.body);
    assert_eq!(r.body["reason"], "Invalid");
    let msg = r.body["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("policy 'broken' with binding 'broken' denied request: JSONPath: "),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_is_refused_with_the_policys_message() {
    let c = cluster().await;
    let Some(k) = Kubectl::for_users(&c.server, &["admin", "dana"]) else {
        return;
    };
    let policy = k.file(
        "policy.yaml",
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: approver-is-requester
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["catalog.charter.dev"]
      apiVersions: ["*"]
      operations: ["CREATE", "UPDATE"]
      resources: ["serviceapprovals"]
  validations:
  - expression: object.spec.approver == request.userInfo.username
    message: spec.approver must be the requesting user
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: approver-is-requester
spec:
  policyName: approver-is-requester
  validationActions: [Deny]
"#,
    );
    let out = k
        .ok("admin", &["apply", "-f", policy.to_str().expect("utf-8")])
        .await;
    assert!(
        out.contains(
            "validatingadmissionpolicy.admissionregistration.k8s.io/approver-is-requester created"
        ),
        "{out}"
    );
    let approval = k.file(
        "approval.yaml",
        "apiVersion: catalog.charter.dev/v1alpha1\nkind: ServiceApproval\nmetadata:\n  name: a1\nspec:\n  serviceName: ledger\n  approver: erin\n",
    );
    let r = k
        .run("dana", &["apply", "-f", approval.to_str().expect("utf-8")])
        .await;
    assert!(!r.ok, "{}", r.stdout);
    assert!(
        r.stderr.contains("Error from server (Forbidden): "),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("serviceapprovals.catalog.charter.dev \"a1\" is forbidden: ValidatingAdmissionPolicy 'approver-is-requester' with binding 'approver-is-requester' denied request: spec.approver must be the requesting user"),
        "{}",
        r.stderr
    );
}
