//! The Argo CD health checks in deploy/argocd/ run (Lua 5.1, like Argo CD's gopher-lua) on
//! the statuses the operator writes.

use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::{Value, json};

fn health(script: &str, obj: Value) -> (String, String) {
    let lua = Lua::new();
    lua.globals()
        .set("obj", lua.to_value(&obj).expect("object converts"))
        .expect("obj set");
    let hs: Table = lua.load(script).eval().expect("script runs");
    (
        hs.get("status").expect("status"),
        hs.get("message").expect("message"),
    )
}

const SERVICE: &str = include_str!("../deploy/argocd/service-health.lua");
const APPROVAL: &str = include_str!("../deploy/argocd/serviceapproval-health.lua");

fn service(generation: i64, observed: Option<i64>, ready: Option<(&str, &str)>) -> Value {
    let mut obj = json!({"metadata": {"name": "ledger", "generation": generation}});
    if let Some(observed) = observed {
        let conditions: Vec<Value> = ready
            .map(|(status, reason)| {
                json!({"type": "Ready", "status": status, "reason": reason, "message": "m"})
            })
            .into_iter()
            .collect();
        obj["status"] = json!({"observedGeneration": observed, "conditions": conditions});
    }
    obj
}

#[test]
fn service_health_follows_ready_and_observed_generation() {
    let cases = [
        (service(1, None, None), "Progressing"),
        (service(2, Some(1), Some(("True", "Active"))), "Progressing"),
        (service(2, Some(2), Some(("True", "Active"))), "Healthy"),
        (service(1, Some(1), Some(("True", "Retired"))), "Healthy"),
        (
            service(1, Some(1), Some(("False", "AwaitingApproval"))),
            "Progressing",
        ),
        (
            service(1, Some(1), Some(("False", "DependenciesNotReady"))),
            "Progressing",
        ),
        (service(1, Some(1), Some(("False", "Rejected"))), "Degraded"),
        (
            service(1, Some(1), Some(("False", "Incomplete"))),
            "Degraded",
        ),
        (
            service(1, Some(1), Some(("False", "DependencyCycle"))),
            "Degraded",
        ),
    ];
    for (obj, want) in cases {
        let (status, message) = health(SERVICE, obj.clone());
        assert_eq!(status, want, "{obj} -> {message}");
    }
    let (_, message) = health(
        SERVICE,
        service(1, Some(1), Some(("False", "AwaitingApproval"))),
    );
    assert_eq!(message, "AwaitingApproval: m");
}

#[test]
fn approval_health_separates_history_from_mistakes() {
    let approval = |status: Value| json!({"metadata": {"name": "a"}, "status": status});
    let cases = [
        (json!({"metadata": {"name": "a"}}), "Progressing"),
        (
            approval(json!({"counted": true, "reason": "Counted", "message": "m"})),
            "Healthy",
        ),
        (
            approval(json!({"counted": false, "reason": "StaleRevision", "message": "m"})),
            "Healthy",
        ),
        (
            approval(json!({"counted": false, "reason": "Superseded", "message": "m"})),
            "Healthy",
        ),
        (
            approval(json!({"counted": false, "reason": "SelfApproval", "message": "m"})),
            "Degraded",
        ),
        (
            approval(json!({"counted": false, "reason": "UnknownService", "message": "m"})),
            "Degraded",
        ),
        (
            approval(json!({"counted": false, "reason": "ApproverNotAllowed", "message": "m"})),
            "Degraded",
        ),
    ];
    for (obj, want) in cases {
        let (status, message) = health(APPROVAL, obj.clone());
        assert_eq!(status, want, "{obj} -> {message}");
    }
}
