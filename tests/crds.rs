//! `crds/` holds exactly what `charter crds` prints.

#[test]
fn crds_directory_matches_the_generated_crds() {
    let on_disk =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/crds/charter.yaml"))
            .expect("crds/charter.yaml exists");
    let generated = charter::crds::yaml();
    assert!(
        on_disk == generated,
        "crds/charter.yaml is out of date: run `cargo run -- crds > crds/charter.yaml`"
    );
}

#[test]
fn crds_declare_the_names_users_type() {
    let crds = charter::crds::all();
    let service = &crds[0].spec;
    assert_eq!(
        service.names.short_names.as_deref(),
        Some(&["csvc".to_string()][..])
    );
    assert_eq!(
        service.names.categories.as_deref(),
        Some(&["charter".to_string()][..])
    );
    let approval = &crds[1].spec;
    assert_eq!(approval.names.plural, "serviceapprovals");
    assert!(
        approval
            .names
            .short_names
            .as_ref()
            .is_some_and(|s| !s.is_empty())
    );
    let policy = &crds[2].spec;
    assert_eq!(policy.names.kind, "ApprovalPolicy");
    assert_eq!(
        policy.scope, "Cluster",
        "the platform's bar is not a namespace's"
    );
    // A policy is configuration, with nothing observed to report: no status.
    for crd in crds
        .iter()
        .filter(|c| c.spec.names.kind != "ApprovalPolicy")
    {
        let version = &crd.spec.versions[0];
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            "{} has a status subresource",
            crd.spec.names.kind
        );
    }
}

#[test]
fn a_services_status_snapshot_keeps_the_contents_structure_but_not_its_rules() {
    let crd = serde_json::to_value(
        charter::crds::all()
            .into_iter()
            .find(|crd| crd.spec.names.kind == "Service")
            .expect("the Service CRD"),
    )
    .expect("serialises");
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
    // The spec carries its content's fields inline (`#[serde(flatten)]`).
    let spec_content = &schema["spec"];
    let snapshot_content = &schema["status"]["properties"]["snapshot"]["properties"]["content"];
    let rules = |v: &serde_json::Value| v.to_string().matches("x-kubernetes-validations").count();
    assert!(rules(spec_content) > 0, "the spec's content is judged");
    assert_eq!(
        rules(snapshot_content),
        0,
        "the approved record is not judged again"
    );
    let targets = "/properties/serviceLevel/properties/targets/items/properties/priority/type";
    assert_eq!(
        snapshot_content.pointer(targets),
        Some(&serde_json::json!("string"))
    );
    assert_eq!(
        snapshot_content.pointer(targets),
        spec_content.pointer(targets),
        "the same structure"
    );
}
