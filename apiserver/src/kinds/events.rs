//! The events.k8s.io family: Events, stored as events.k8s.io/v1 and served as either that or
//! core v1 (converted both ways by `crate::events`); their printer and any field label.

use crate::contain::contain;
use crate::error::ApiError;
use crate::resource::{ResourceInfo, Strategy, Table, as_requested_version};
use crate::table::{age, column, str_at};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::borrow::Cow;

const STORED_GROUP: &str = "events.k8s.io";

pub(super) fn kinds() -> Vec<ResourceInfo> {
    vec![
        ResourceInfo::builtin((STORED_GROUP, "v1"), "Event", "events", true, &Event)
            .short_names(&["ev"]),
    ]
}

#[derive(Debug)]
pub(super) struct Event;

/// A core v1 Event (the family's other served shape).
fn is_core(info: &ResourceInfo) -> bool {
    info.group.is_empty()
}

impl Strategy for Event {
    fn storage_group<'a>(&self, _info: &'a ResourceInfo) -> &'a str {
        STORED_GROUP
    }

    fn stored_api_version(&self, info: &ResourceInfo) -> String {
        if is_core(info) {
            format!("{STORED_GROUP}/v1")
        } else {
            info.api_version()
        }
    }

    fn decode_served(&self, info: &ResourceInfo, obj: Value) -> Result<Value, ApiError> {
        if is_core(info) {
            contain("events::from_core_v1", || crate::events::from_core_v1(&obj))
        } else {
            Ok(obj)
        }
    }

    fn to_served<'a>(&self, info: &ResourceInfo, stored: &'a Value) -> Cow<'a, Value> {
        if is_core(info) {
            return Cow::Owned(
                contain("events::to_core_v1", || crate::events::to_core_v1(stored))
                    .unwrap_or_else(|_| stored.clone()),
            );
        }
        as_requested_version(info, stored)
    }

    /// Events are not checked.
    fn field_label_supported(&self, _label: &str, _selectable: &[String]) -> bool {
        true
    }

    fn table(&self, objects: &[Value], now: DateTime<Utc>) -> Option<Table> {
        let defs = vec![
            column("Last Seen", "string", "Time when last event occurred"),
            column("Type", "string", "Type of this event."),
            column("Reason", "string", "Reason why this event was generated."),
            column("Object", "string", "The object this event is about."),
            column(
                "Message",
                "string",
                "A human-readable description of the status of this operation.",
            ),
        ];
        let rows = objects.iter().map(|o| row(o, now)).collect();
        Some((defs, rows))
    }

    fn openapi_properties(&self, _info: &ResourceInfo, props: &mut Map<String, Value>) -> String {
        for f in [
            "action",
            "note",
            "reason",
            "reportingController",
            "reportingInstance",
            "type",
            "message",
            "reportingComponent",
            "eventTime",
            "firstTimestamp",
            "lastTimestamp",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
        ] {
            props.insert(f.into(), json!({"type": "string"}));
        }
        for f in ["count", "deprecatedCount"] {
            props.insert(f.into(), json!({"type": "integer", "format": "int32"}));
        }
        for f in [
            "regarding",
            "related",
            "involvedObject",
            "series",
            "source",
            "deprecatedSource",
        ] {
            props.insert(f.into(), crate::resource::open_object(""));
        }
        "Event is a report of an event somewhere in the cluster.".into()
    }
}

/// One Event's cells, in either served shape.
fn row(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let last = [
        "/series/lastObservedTime",
        "/lastTimestamp",
        "/deprecatedLastTimestamp",
        "/eventTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .find_map(|p| o.pointer(p).filter(|v| v.is_string()));
    let regarding = o.get("regarding").or_else(|| o.get("involvedObject"));
    let object = match regarding {
        Some(r) => format!(
            "{}/{}",
            r.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase(),
            r.get("name").and_then(Value::as_str).unwrap_or("")
        ),
        None => String::new(),
    };
    let message = o
        .get("note")
        .or_else(|| o.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    vec![
        age(last, now),
        json!(str_at(o, "/type").unwrap_or("")),
        json!(str_at(o, "/reason").unwrap_or("")),
        json!(object),
        json!(message),
    ]
}
