//! The catalog's format, `charter.dev/catalog/v3`, as a consumer reads it: real catalog output
//! checked against the versioned JSON Schema in docs/, and what a consumer relies on (no nulls,
//! dependencies with their namespace, provenance apart from content, a brief list of every entry).

use charter::api::Phase;
use serde_json::{Value, json};
use testkit::*;

const SCHEMA: &str = include_str!("../docs/catalog-v3.schema.json");

/// A validator for one definition of the schema (`index`, `listing`, `entry`).
fn validator(definition: &str) -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    schema["$ref"] = json!(format!("#/$defs/{definition}"));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("the schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, what: &str, value: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks the schema: {errors:?}\n{value:#}"
    );
}

fn nulls(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Null => found.push(path.to_owned()),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                nulls(v, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                nulls(v, &format!("{path}.{k}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_output_matches_its_versioned_schema_and_serves_consumers() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ident").reachable()).await;
    fx.create(service("ledger").reachable().depends_on("ident"))
        .await;
    fx.edit("ledger", |spec| {
        spec.lifecycle.review_interval = Some("90d".into())
    })
    .await;
    for name in ["ident", "ledger"] {
        let revision = fx.revision_in_approval(name).await;
        approve(&ava, name, &revision, "ava").await;
    }
    fx.wait_for_phase("ledger", Phase::Active).await;
    let ledger = eventually("both entries", || async {
        fx.published("ident").await?;
        fx.published("ledger").await
    })
    .await;

    let (index, listing, entry) = (validator("index"), validator("listing"), validator("entry"));
    let shard0 = fx.catalog().await.expect("the catalog exists");
    let index_value: Value = serde_json::from_str(&shard0["index.json"]).unwrap();
    assert_valid(&index, "index.json", &index_value);
    assert_eq!(index_value["format"], "charter.dev/catalog/v3");
    let mut listed = Vec::new();
    for shard in index_value["shards"].as_array().unwrap() {
        let data = fx
            .configmaps()
            .get(shard.as_str().unwrap())
            .await
            .expect("every shard the index names exists")
            .data
            .unwrap_or_default();
        for (key, text) in &data {
            let value: Value = serde_json::from_str(text).expect("every value is JSON");
            let mut found = Vec::new();
            nulls(&value, key, &mut found);
            assert!(found.is_empty(), "no nulls: {found:?}");
            match key.as_str() {
                "index.json" => {}
                "services.json" => {
                    assert_valid(&listing, key, &value);
                    listed.extend(value.as_array().unwrap().iter().cloned());
                }
                _ => assert_valid(&entry, key, &value),
            }
        }
    }
    let keys: Vec<&str> = listed.iter().filter_map(|b| b["key"].as_str()).collect();
    assert_eq!(keys, vec!["default_ident.json", "default_ledger.json"]);
    let revision = fx.status_of("ledger").await.unwrap().revision.unwrap();
    assert_eq!(
        listed[1],
        json!({"key": "default_ledger.json", "namespace": "default", "name": "ledger",
               "revision": revision, "displayName": "The ledger service",
               "categories": ["finance"]})
    );

    // The schema is strict: what the format leaves out is refused.
    let mut drifted = ledger.clone();
    drifted["content"]["approvers"] = json!(["ava"]);
    assert!(
        !entry.is_valid(&drifted),
        "approval-process fields are not in the format"
    );
    let mut drifted = ledger.clone();
    drifted["provenance"]["reviewDueAt"] = Value::Null;
    assert!(!entry.is_valid(&drifted), "nulls are not in the format");

    let content = &ledger["content"];
    assert_eq!(
        content["model"]["dependsOn"],
        json!([{"namespace": "default", "name": "ident"}]),
        "a dependency carries its namespace"
    );
    assert!(content.get("approvers").is_none() && content.get("requiredApprovals").is_none());
    assert_eq!(content["contact"]["team"], "Payments Platform");
    assert_eq!(
        content["request"]["url"],
        "https://forms.example.com/ledger"
    );
    assert_eq!(content["support"]["hours"], "Mon-Fri 08:00-18:00 CET");
    let provenance = &ledger["provenance"];
    assert_eq!(provenance["revision"], revision.as_str());
    assert_eq!(provenance["approvedBy"], json!(["ava"]));
    for field in ["approvedAt", "activatedAt", "publishedAt", "reviewDueAt"] {
        assert!(provenance[field].is_string(), "{field}: {provenance}");
    }
    fx.shutdown().await;
}
