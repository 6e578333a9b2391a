//! The portal in a real browser: `charter sandbox --apply examples/` as a new user starts it,
//! Debian's headless Chromium driven through `tests/browser/portal.mjs` (puppeteer-core), the
//! assertions here on what the pages showed: sign-in, filters, search, sort, links, the service
//! page, the portfolio's columns, injected markup shown as text, who sees what, a strict CSP,
//! and axe-core's accessibility check. Screenshots go to `docs/screenshots/`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use testkit::sandbox::Sandbox;

const HOSTILE: &str = r#"apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata: {name: hostile, namespace: payments}
spec:
  owner: dana
  displayName: "<b>Bold</b> claims"
  description: "<script>window.pwned = true</script><img src=x onerror=\"window.pwned = true\"> read me as text"
  serviceLevel: {agreementUrl: "javascript:window.pwned = true"}
  links:
    - {name: docs, url: "https://docs.example.com/hostile"}
"#;

fn token(kubeconfig: &std::path::Path, user: &str) -> String {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(kubeconfig).unwrap()).unwrap();
    doc["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == user)
        .and_then(|u| u["user"]["token"].as_str())
        .unwrap_or_else(|| panic!("{user} in the kubeconfig"))
        .to_owned()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("a list: {value}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn a_new_user_browses_the_catalog_a_service_and_the_portfolio_in_chromium() {
    let Some((chromium, modules)) = testkit::browser() else {
        return;
    };
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sandbox = Sandbox::start(&examples);
    let portal = sandbox
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("Portal: "))
        .expect("the sandbox prints the portal's address")
        .trim()
        .to_owned();
    let hostile = sandbox.manifest("hostile.yaml", HOSTILE);
    sandbox.kubectl_ok(&["apply", "-f", &hostile]);
    for (ns, name, phase) in [
        ("payments", "ledger", "Active"),
        ("platform", "legacy-ftp", "Retired"),
        ("payments", "fx-rates", "Planning"),
        ("payments", "hostile", "Planning"),
    ] {
        sandbox.wait_for(
            &[
                "get",
                "csvc",
                "-n",
                ns,
                name,
                "-o",
                "jsonpath={.status.phase}",
            ],
            phase,
        );
    }
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let tokens = serde_json::json!({
        "dana": token(&sandbox.kubeconfig, "dana"),
        "visitor": token(&sandbox.kubeconfig, "visitor"),
    });
    let out = Command::new("node")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/portal.mjs"))
        .env("CHARTER_PORTAL", &portal)
        .env("CHARTER_TOKENS", tokens.to_string())
        .env("CHARTER_PIPELINE_SERVICE", "payments/fx-rates")
        .env("CHARTER_HOSTILE_SERVICE", "payments/hostile")
        .env("CHARTER_SCREENSHOTS", &shots)
        .env("CHARTER_CHROMIUM", &chromium)
        .env("CHARTER_BROWSER_MODULES", &modules)
        .output()
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser run failed:\n{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));

    // No token, no data: the sign-in form and nothing else; a bad token is told so.
    assert_eq!(r["anonymous"]["status"], 401, "{}", r["anonymous"]);
    assert_eq!(r["anonymous"]["rows"], 0);
    assert_eq!(r["anonymous"]["tokenField"], true);
    let csp = r["anonymous"]["csp"].as_str().expect("a CSP header");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(r["badToken"]["rows"], 0);
    assert!(
        r["badToken"]["problem"]
            .as_str()
            .unwrap()
            .contains("does not accept"),
        "{}",
        r["badToken"]
    );

    // Dana signs in and sees the published catalog, without a script on the page.
    let catalog = &r["catalog"];
    assert_eq!(catalog["viewer"], "dana");
    assert_eq!(
        strings(&catalog["rows"]),
        [
            "payments/ledger",
            "platform/identity",
            "platform/message-bus"
        ],
        "sorted by display name: General Ledger, Identity and Access, Message Bus"
    );
    assert_eq!(catalog["scripts"], 0);
    assert!(
        catalog["exportCsv"]
            .as_str()
            .unwrap()
            .ends_with("format=csv")
    );
    // Filters, search and sort are links.
    assert!(
        r["tierFilter"]["url"]
            .as_str()
            .unwrap()
            .contains("tier=Critical")
    );
    assert_eq!(
        strings(&r["tierFilter"]["rows"]),
        ["payments/ledger", "platform/identity"]
    );
    assert!(r["search"]["url"].as_str().unwrap().contains("q=identity"));
    assert_eq!(
        strings(&r["search"]["rows"]),
        ["platform/identity"],
        "{}",
        r["search"]
    );
    assert!(
        r["sorted"]["url"]
            .as_str()
            .unwrap()
            .contains("sort=availability")
    );
    assert_eq!(
        strings(&r["sorted"]["rows"]),
        [
            "platform/message-bus",
            "platform/identity",
            "payments/ledger"
        ],
        "{}",
        r["sorted"]
    );
    assert_eq!(r["sorted"]["ariaSort"][0][1], "ascending");

    // The service page, reached from its row.
    let service = &r["service"];
    assert!(
        service["url"]
            .as_str()
            .unwrap()
            .ends_with("/portal/services/payments/ledger")
    );
    assert_eq!(
        service["dependencies"][0][1],
        "/portal/services/platform/message-bus"
    );
    assert!(
        service["provenance"].as_str().unwrap().contains("erin"),
        "approved by erin: {}",
        service["provenance"]
    );
    assert!(service["history"].as_u64().unwrap() >= 1, "{service}");

    // Injected markup is inert text.
    let hostile = &r["hostile"];
    assert_eq!(hostile["status"], 200);
    assert_eq!(hostile["title"], "<b>Bold</b> claims");
    assert!(
        hostile["description"]
            .as_str()
            .unwrap()
            .starts_with("<script>window.pwned = true</script><img"),
        "{hostile}"
    );
    assert_eq!(hostile["scripts"], 0);
    assert_eq!(hostile["images"], 0);
    assert_eq!(hostile["pwned"], false);
    let hrefs = strings(&hostile["hrefs"]);
    assert!(
        hrefs.contains(&"https://docs.example.com/hostile"),
        "{hrefs:?}"
    );
    assert!(
        hrefs
            .iter()
            .all(|h| !h.to_lowercase().contains("javascript")),
        "a javascript: address is shown, not linked: {hrefs:?}"
    );
    assert!(
        hostile["text"]
            .as_str()
            .unwrap()
            .contains("javascript:window.pwned = true"),
        "{hostile}"
    );

    // The portfolio: the pipeline's three columns, the catalog and the retired.
    let portfolio = &r["portfolio"];
    assert_eq!(
        strings(&portfolio["columns"]),
        ["Planning", "Approval", "Development"]
    );
    let planning = strings(&portfolio["pipeline"]["Planning"]);
    for expected in [
        "payments/card-vault",
        "payments/fx-rates",
        "payments/hostile",
    ] {
        assert!(planning.contains(&expected), "{expected} in {planning:?}");
    }
    assert!(
        portfolio["waits"]["payments/fx-rates"]
            .as_str()
            .is_some_and(|w| w.starts_with("Waits for:")),
        "{portfolio}"
    );
    assert_eq!(strings(&portfolio["retired"]), ["platform/legacy-ftp"]);
    assert_eq!(strings(&portfolio["catalog"]).len(), 3);
    assert_eq!(r["signedOut"]["status"], 401);
    assert_eq!(r["signedOut"]["rows"], 0);

    // The visitor holds no role: the catalog, never the pipeline or the retired.
    let visitor = &r["visitor"];
    assert_eq!(visitor["viewer"], "visitor");
    assert_eq!(strings(&visitor["rows"]).len(), 3);
    assert!(strings(&visitor["pipeline"]).is_empty(), "{visitor}");
    assert!(strings(&visitor["retired"]).is_empty(), "{visitor}");
    assert_eq!(strings(&visitor["catalog"]).len(), 3);
    assert_eq!(visitor["pipelineServiceStatus"], 404);

    assert!(
        strings(&r["cspViolations"]).is_empty(),
        "{}",
        r["cspViolations"]
    );
    assert!(strings(&r["pageErrors"]).is_empty(), "{}", r["pageErrors"]);
    for page in ["catalog", "service", "portfolio", "login"] {
        let a11y = &r["accessibility"][page];
        assert_eq!(a11y["violations"], serde_json::json!([]), "{page}: {a11y}");
        let passed = strings(&a11y["passed"]);
        for rule in ["color-contrast", "landmark-one-main", "region"] {
            assert!(
                passed.contains(&rule),
                "{page}: {rule} checked and passed: {passed:?}"
            );
        }
    }
    for shot in ["catalog.png", "service.png", "portfolio.png"] {
        let size = std::fs::metadata(shots.join(shot)).map_or(0, |m| m.len());
        assert!(size > 10_000, "{shot} written ({size} bytes)");
    }
}
