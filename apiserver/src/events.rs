//! Events are stored once, as `events.k8s.io/v1`, and also served as core `v1` Events
//! (what `kubectl describe` reads): these functions convert between the two shapes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

/// An RFC 3339 time at second precision (`metav1.Time`), or `None` if unparsable.
fn to_time(v: &Value) -> Option<Value> {
    let t = DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()?
        .with_timezone(&Utc);
    Some(json!(t.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

/// An RFC 3339 time at microsecond precision (`metav1.MicroTime`), or `None` if unparsable.
fn to_micro_time(v: &Value) -> Option<Value> {
    let t = DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()?
        .with_timezone(&Utc);
    Some(json!(t.to_rfc3339_opts(SecondsFormat::Micros, true)))
}

fn non_empty<'a>(o: &'a Value, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    })
}

fn copy(from: &Value, from_key: &str, to: &mut Map<String, Value>, to_key: &str) {
    if let Some(v) = non_empty(from, from_key) {
        to.insert(to_key.to_string(), v.clone());
    }
}

/// An events.k8s.io/v1 Event as a core v1 Event (regarding → involvedObject, note → message,
/// series → count / lastTimestamp, reportingController → source.component).
pub fn to_core_v1(event: &Value) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Event"));
    out.insert(
        "metadata".into(),
        event.get("metadata").cloned().unwrap_or_else(|| json!({})),
    );
    copy(event, "regarding", &mut out, "involvedObject");
    if !out.contains_key("involvedObject") {
        out.insert("involvedObject".into(), json!({}));
    }
    copy(event, "related", &mut out, "related");
    copy(event, "reason", &mut out, "reason");
    copy(event, "note", &mut out, "message");
    copy(event, "type", &mut out, "type");
    copy(event, "action", &mut out, "action");
    copy(event, "reportingController", &mut out, "reportingComponent");
    copy(event, "reportingInstance", &mut out, "reportingInstance");
    copy(event, "series", &mut out, "series");
    if let Some(t) = event.get("eventTime").and_then(to_micro_time) {
        out.insert("eventTime".into(), t);
    } else {
        out.insert("eventTime".into(), Value::Null);
    }

    // source: the deprecated source when present, else the reporting controller/instance.
    let mut source = Map::new();
    if let Some(s) = non_empty(event, "deprecatedSource") {
        copy(s, "component", &mut source, "component");
        copy(s, "host", &mut source, "host");
    }
    if !source.contains_key("component") {
        copy(event, "reportingController", &mut source, "component");
    }
    if !source.contains_key("host") {
        copy(event, "reportingInstance", &mut source, "host");
    }
    out.insert("source".into(), Value::Object(source));

    let series = non_empty(event, "series");
    let first = event
        .get("deprecatedFirstTimestamp")
        .and_then(to_time)
        .or_else(|| event.get("eventTime").and_then(to_time));
    let last = event
        .get("deprecatedLastTimestamp")
        .and_then(to_time)
        .or_else(|| {
            series
                .and_then(|s| s.get("lastObservedTime"))
                .and_then(to_time)
        })
        .or_else(|| first.clone());
    let count = event
        .get("deprecatedCount")
        .and_then(Value::as_i64)
        .filter(|c| *c > 0)
        .or_else(|| series.and_then(|s| s.get("count")).and_then(Value::as_i64))
        .unwrap_or(1);
    out.insert("firstTimestamp".into(), first.unwrap_or(Value::Null));
    out.insert("lastTimestamp".into(), last.unwrap_or(Value::Null));
    out.insert("count".into(), json!(count));
    Value::Object(out)
}

/// A core v1 Event (as `kubectl create` or an old client would post it) as events.k8s.io/v1.
pub fn from_core_v1(event: &Value) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    out.insert("kind".into(), json!("Event"));
    out.insert(
        "metadata".into(),
        event.get("metadata").cloned().unwrap_or_else(|| json!({})),
    );
    copy(event, "involvedObject", &mut out, "regarding");
    copy(event, "related", &mut out, "related");
    copy(event, "reason", &mut out, "reason");
    copy(event, "message", &mut out, "note");
    copy(event, "type", &mut out, "type");
    copy(event, "action", &mut out, "action");
    copy(event, "reportingInstance", &mut out, "reportingInstance");
    copy(event, "series", &mut out, "series");
    copy(event, "reportingComponent", &mut out, "reportingController");
    let source = non_empty(event, "source");
    if !out.contains_key("reportingController")
        && let Some(c) = source.and_then(|s| non_empty(s, "component"))
    {
        out.insert("reportingController".into(), c.clone());
    }
    if !out.contains_key("reportingInstance")
        && let Some(h) = source.and_then(|s| non_empty(s, "host"))
    {
        out.insert("reportingInstance".into(), h.clone());
    }
    if let Some(s) = source {
        out.insert("deprecatedSource".into(), s.clone());
    }
    if let Some(t) = event.get("firstTimestamp").and_then(to_time) {
        out.insert("deprecatedFirstTimestamp".into(), t);
    }
    if let Some(t) = event.get("lastTimestamp").and_then(to_time) {
        out.insert("deprecatedLastTimestamp".into(), t);
    }
    if let Some(c) = event
        .get("count")
        .and_then(Value::as_i64)
        .filter(|c| *c > 0)
    {
        out.insert("deprecatedCount".into(), json!(c));
    }
    let event_time = ["eventTime", "firstTimestamp", "lastTimestamp"]
        .iter()
        .find_map(|k| event.get(*k).and_then(to_micro_time))
        .or_else(|| {
            event
                .pointer("/metadata/creationTimestamp")
                .and_then(to_micro_time)
        });
    if let Some(t) = event_time {
        out.insert("eventTime".into(), t);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder_event() -> Value {
        // What kube's Recorder posts, after a merge patch with a series.
        json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "p1.17a", "namespace": "default", "uid": "u1", "resourceVersion": "12"},
            "eventTime": "2026-01-10T11:00:00.123456Z",
            "series": {"count": 3, "lastObservedTime": "2026-01-10T11:05:00.000001Z"},
            "reportingController": "charter-operator",
            "reportingInstance": "charter-operator-abc",
            "action": "Reconcile",
            "reason": "Synced",
            "regarding": {"apiVersion": "catalog.charter.dev/v1alpha1", "kind": "Service", "name": "p1", "namespace": "default", "uid": "s1"},
            "note": "synced ok",
            "type": "Normal"
        })
    }

    #[test]
    fn events_to_core() {
        let c = to_core_v1(&recorder_event());
        assert_eq!(c["apiVersion"], "v1");
        assert_eq!(c["kind"], "Event");
        assert_eq!(c["metadata"]["name"], "p1.17a");
        assert_eq!(c["involvedObject"]["kind"], "Service");
        assert_eq!(c["involvedObject"]["uid"], "s1");
        assert_eq!(c["message"], "synced ok");
        assert_eq!(c["reason"], "Synced");
        assert_eq!(c["type"], "Normal");
        assert_eq!(c["action"], "Reconcile");
        assert_eq!(c["source"]["component"], "charter-operator");
        assert_eq!(c["source"]["host"], "charter-operator-abc");
        assert_eq!(c["reportingComponent"], "charter-operator");
        assert_eq!(c["reportingInstance"], "charter-operator-abc");
        assert_eq!(c["count"], 3);
        assert_eq!(c["firstTimestamp"], "2026-01-10T11:00:00Z");
        assert_eq!(c["lastTimestamp"], "2026-01-10T11:05:00Z");
        assert_eq!(c["eventTime"], "2026-01-10T11:00:00.123456Z");
    }

    #[test]
    fn deprecated_fields_win_and_single_events_count_one() {
        let mut e = recorder_event();
        e["deprecatedCount"] = json!(7);
        e["deprecatedFirstTimestamp"] = json!("2026-01-01T00:00:00Z");
        e["deprecatedLastTimestamp"] = json!("2026-01-02T00:00:00Z");
        e["deprecatedSource"] = json!({"component": "kubelet", "host": "node-1"});
        let c = to_core_v1(&e);
        assert_eq!(c["count"], 7);
        assert_eq!(c["firstTimestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(c["lastTimestamp"], "2026-01-02T00:00:00Z");
        assert_eq!(
            c["source"],
            json!({"component": "kubelet", "host": "node-1"})
        );

        let mut single = recorder_event();
        single.as_object_mut().unwrap().remove("series");
        let c = to_core_v1(&single);
        assert_eq!(c["count"], 1);
        assert_eq!(c["lastTimestamp"], "2026-01-10T11:00:00Z");
        let c = to_core_v1(&json!({}));
        assert_eq!(c["kind"], "Event");
        assert_eq!(c["count"], 1);
    }

    #[test]
    fn core_to_events_and_back() {
        let core = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "x.1", "namespace": "default"},
            "involvedObject": {"kind": "ConfigMap", "name": "y", "namespace": "default"},
            "reason": "Created",
            "message": "made it",
            "source": {"component": "me"},
            "firstTimestamp": "2026-01-10T10:00:00Z",
            "lastTimestamp": "2026-01-10T10:30:00Z",
            "count": 4,
            "type": "Warning"
        });
        let e = from_core_v1(&core);
        assert_eq!(e["apiVersion"], "events.k8s.io/v1");
        assert_eq!(e["regarding"]["name"], "y");
        assert_eq!(e["note"], "made it");
        assert_eq!(e["reportingController"], "me");
        assert_eq!(e["deprecatedSource"]["component"], "me");
        assert_eq!(e["deprecatedCount"], 4);
        assert_eq!(e["eventTime"], "2026-01-10T10:00:00.000000Z");
        let back = to_core_v1(&e);
        for k in [
            "involvedObject",
            "reason",
            "message",
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "type",
            "metadata",
        ] {
            assert_eq!(back[k], core[k], "{k}");
        }
        assert_eq!(back["source"]["component"], "me");
    }
}
