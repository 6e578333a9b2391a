//! The portal over HTTP, as each kind of user: the operator runs against the embedded API
//! server secured as deploy/ secures a cluster, with `examples/` applied, and the portal
//! answers from its caches. Who sees what is the API server's answer (TokenReview,
//! SubjectAccessReview); every answer carries the CSP; exports follow the view.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use charter::cli::sandbox::secured_server;
use charter_apiserver::{ApiServer, Config as ServerConfig, UserSpec};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::{Api, Client, api::PostParams};
use serde_json::Value;

const GROUP: &str = "charter:users";

struct Answer {
    code: u16,
    head: String,
    body: String,
}

fn request(port: u16, method: &str, path: &str, headers: &[String], body: &str) -> Answer {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the portal");
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("sent");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("an answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    Answer {
        code: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        head: head.to_lowercase(),
        body: body.to_owned(),
    }
}

fn get(port: u16, path: &str, token: Option<&str>) -> Answer {
    let headers: Vec<String> = token
        .map(|t| format!("Authorization: Bearer {t}"))
        .into_iter()
        .collect();
    request(port, "GET", path, &headers, "")
}

fn json(answer: &Answer) -> Value {
    assert_eq!(answer.code, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.body))
}

fn services(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["namespace"].as_str().unwrap(),
                i["name"].as_str().unwrap()
            )
        })
        .collect()
}

struct Running {
    server: ApiServer,
    port: u16,
    anonymous_port: u16,
}

/// The operator with `examples/` applied, the portal on two ports (the second with
/// `--portal-anonymous-catalog`), once the examples have settled.
async fn start() -> Running {
    let users = vec![
        UserSpec::new("dana", &[GROUP]),
        // Authenticated, no role at all.
        UserSpec::new("outsider", &[]),
        // May read Services in payments only.
        UserSpec::new("payer", &[]),
    ];
    let (server, operator, admin) = secured_server(
        ServerConfig {
            users,
            ..ServerConfig::default()
        },
        GROUP,
    )
    .await
    .expect("a secured server");
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let objects = charter::manifests::load(&examples).expect("the examples load");
    charter::cli::apply::apply_all(&admin, &objects)
        .await
        .expect("the examples apply");
    view_payments(&admin, "payer").await;

    let window = charter::controller::Window::default();
    let operator_run = charter::controller::Operator::new(
        operator.clone(),
        charter::controller::Config::default(),
    )
    .window(window.clone());
    tokio::spawn(operator_run.run(std::future::pending()));
    let mut ports = Vec::new();
    for anonymous_catalog in [false, true] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        ports.push(listener.local_addr().unwrap().port());
        let app = charter::portal::router(charter::portal::Portal {
            window: window.clone(),
            access: charter::access::Access::new(operator.clone()),
            catalog_namespace: charter::deploy::CATALOG_NAMESPACE.into(),
            anonymous_catalog,
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let running = Running {
        port: ports[0],
        anonymous_port: ports[1],
        server,
    };
    // Settled: the examples' three Active services published, legacy-ftp retired.
    let dana = running.server.token_of("dana").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let port = running.port;
        let token = dana.clone();
        let answer = tokio::task::spawn_blocking(move || {
            get(port, "/portal/portfolio?format=json", Some(&token))
        })
        .await
        .unwrap();
        if answer.code == 200 {
            let p: Value = serde_json::from_str(&answer.body).unwrap();
            if services(&p["catalog"]).len() == 3 && services(&p["retired"]).len() == 1 {
                return running;
            }
        }
        assert!(Instant::now() < deadline, "never settled: {}", answer.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// deploy/'s charter-viewer in `payments` only, as a team lead would grant it.
async fn view_payments(admin: &Client, user: &str) {
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("{user}-views"), "namespace": "payments"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "charter-viewer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(admin.clone(), "payments")
        .create(&PostParams::default(), &binding)
        .await
        .expect("the binding is created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_viewer_sees_what_rbac_lets_them_read_and_nobody_sees_anything_without_a_token() {
    let running = start().await;
    let port = running.port;
    let anonymous_port = running.anonymous_port;
    let token = |user: &str| running.server.token_of(user).unwrap();
    let (dana, outsider, payer) = (token("dana"), token("outsider"), token("payer"));
    tokio::task::spawn_blocking(move || {
        // No token, or one the API server refuses: nothing but the sign-in form.
        for path in [
            "/portal",
            "/portal?format=json",
            "/portal?format=csv",
            "/portal/portfolio",
            "/portal/portfolio?format=json",
            "/portal/services/payments/ledger",
        ] {
            for bad in [None, Some("not-a-token")] {
                let answer = get(port, path, bad);
                assert_eq!(answer.code, 401, "{path} with {bad:?}: {}", answer.body);
                assert!(!answer.body.contains("ledger"), "{path}: {}", answer.body);
                assert!(
                    answer
                        .head
                        .contains("content-security-policy: default-src 'none'")
                );
            }
        }

        // Dana may list Services everywhere: the whole portfolio.
        let p = json(&get(port, "/portal/portfolio?format=json", Some(&dana)));
        let pipeline = services(&p["pipeline"]);
        assert!(
            pipeline.contains(&"payments/fx-rates".to_owned()),
            "{pipeline:?}"
        );
        assert!(
            pipeline.contains(&"payments/card-vault".to_owned()),
            "{pipeline:?}"
        );
        assert_eq!(services(&p["retired"]), ["platform/legacy-ftp"]);
        let fx = p["pipeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "fx-rates")
            .unwrap();
        assert!(
            fx["waitsFor"].as_str().is_some_and(|w| !w.is_empty()),
            "{fx}"
        );

        // The outsider holds no role: the catalog, not the pipeline, not the retired.
        let catalog = json(&get(port, "/portal?format=json", Some(&outsider)));
        assert_eq!(
            services(&catalog),
            [
                "payments/ledger",
                "platform/identity",
                "platform/message-bus"
            ],
            "by display name: General Ledger, Identity and Access, Message Bus"
        );
        let p = json(&get(port, "/portal/portfolio?format=json", Some(&outsider)));
        assert!(services(&p["pipeline"]).is_empty(), "{p}");
        assert!(services(&p["retired"]).is_empty(), "{p}");
        assert_eq!(services(&p["catalog"]).len(), 3);
        assert!(
            p["catalog"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i.get("revision").is_none() && i.get("approvals").is_none()),
            "the status of published Services is not the catalog: {p}"
        );
        assert_eq!(
            get(port, "/portal/services/payments/fx-rates", Some(&outsider)).code,
            404
        );
        assert_eq!(
            get(
                port,
                "/portal/services/platform/legacy-ftp",
                Some(&outsider)
            )
            .code,
            404
        );
        let ledger = get(port, "/portal/services/payments/ledger", Some(&outsider));
        assert_eq!(ledger.code, 200);
        assert!(
            !ledger.body.contains("data-testid=\"history\""),
            "history is the Service's"
        );

        // The payer may read Services in payments only.
        let p = json(&get(port, "/portal/portfolio?format=json", Some(&payer)));
        assert!(
            services(&p["pipeline"])
                .iter()
                .all(|s| s.starts_with("payments/")),
            "{p}"
        );
        assert!(!services(&p["pipeline"]).is_empty(), "{p}");
        assert!(
            services(&p["retired"]).is_empty(),
            "legacy-ftp is in platform: {p}"
        );
        let ledger = get(port, "/portal/services/payments/ledger", Some(&payer));
        assert!(
            ledger.body.contains("data-testid=\"history\""),
            "{}",
            ledger.body
        );

        // The "needs review" view is a link of its own (which Services it keeps depends on the
        // date: lib's listing tests pin it).
        let due = json(&get(port, "/portal?review=due&format=json", Some(&dana)));
        assert!(services(&due).len() <= 3, "{due}");
        let page = get(port, "/portal?review=due", Some(&dana));
        assert!(page.body.contains("value=\"due\" checked"), "{}", page.body);

        // Exports follow the view.
        let csv = get(port, "/portal?tier=High&format=csv", Some(&dana));
        assert_eq!(csv.code, 200);
        assert!(csv.head.contains("content-type: text/csv"));
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(
            lines[0],
            "namespace,name,displayName,owner,tier,categories,availability,description,revision"
        );
        assert_eq!(lines.len(), 2, "{}", csv.body);
        assert!(
            lines[1].starts_with("platform,message-bus,Message Bus,priya,High,Integration,99.9,"),
            "{}",
            lines[1]
        );
        let csv = get(port, "/portal/portfolio?format=csv", Some(&dana));
        assert!(
            csv.body
                .lines()
                .any(|l| l.starts_with("retired,Retired,platform,legacy-ftp,")),
            "{}",
            csv.body
        );

        // Signing in keeps the token in an HttpOnly, same-site cookie; a bad one is refused.
        let form = ["Content-Type: application/x-www-form-urlencoded".to_owned()];
        let refused = request(port, "POST", "/portal/login", &form, "token=nope");
        assert_eq!(refused.code, 401);
        assert!(!refused.head.contains("set-cookie"));
        let signed = request(
            port,
            "POST",
            "/portal/login",
            &form,
            &format!("token={dana}"),
        );
        assert_eq!(signed.code, 303, "{}", signed.body);
        assert!(
            signed.head.contains("set-cookie: charter-portal-token="),
            "{}",
            signed.head
        );
        assert!(signed.head.contains("httponly") && signed.head.contains("samesite=strict"));
        let cookie = [format!("Cookie: charter-portal-token={dana}")];
        let page = request(port, "GET", "/portal", &cookie, "");
        assert_eq!(page.code, 200);
        assert!(
            page.body.contains("data-testid=\"viewer\">dana<"),
            "{}",
            page.body
        );
        let stale = ["Cookie: charter-portal-token=stale".to_owned()];
        let page = request(port, "GET", "/portal", &stale, "");
        assert_eq!(page.code, 401);
        assert!(
            page.head.contains("set-cookie: charter-portal-token=;"),
            "cleared: {}",
            page.head
        );

        // With --portal-anonymous-catalog: the catalog, and only the catalog, without a token.
        let catalog = json(&get(anonymous_port, "/portal?format=json", None));
        assert_eq!(services(&catalog).len(), 3);
        let p = json(&get(anonymous_port, "/portal/portfolio?format=json", None));
        assert!(services(&p["pipeline"]).is_empty() && services(&p["retired"]).is_empty());
        assert_eq!(
            get(anonymous_port, "/portal/services/payments/fx-rates", None).code,
            404
        );
        // A token still counts there.
        let p = json(&get(
            anonymous_port,
            "/portal/portfolio?format=json",
            Some(&dana),
        ));
        assert!(!services(&p["pipeline"]).is_empty());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_without_caches_says_so_and_shows_nothing() {
    let (server, operator, _admin) = secured_server(
        ServerConfig {
            users: vec![UserSpec::new("dana", &[GROUP])],
            ..ServerConfig::default()
        },
        GROUP,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = charter::portal::router(charter::portal::Portal {
        window: charter::controller::Window::default(),
        access: charter::access::Access::new(operator),
        catalog_namespace: charter::deploy::CATALOG_NAMESPACE.into(),
        anonymous_catalog: false,
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dana = server.token_of("dana").unwrap();
    let answer = tokio::task::spawn_blocking(move || get(port, "/portal", Some(&dana)))
        .await
        .unwrap();
    assert_eq!(answer.code, 503);
    assert!(answer.body.contains("standby"), "{}", answer.body);
}

/// Pages come from the operator's caches: once a viewer's access answers are cached, the
/// portal serves every view while the API server fails every request it gets; a viewer it has
/// not judged yet is not shown anything then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_view_costs_no_api_call_beyond_the_cached_access_checks() {
    let running = start().await;
    let port = running.port;
    let dana = running.server.token_of("dana").unwrap();
    let outsider = running.server.token_of("outsider").unwrap();
    let views = [
        "/portal",
        "/portal?tier=High&q=bus",
        "/portal?format=csv",
        "/portal/portfolio",
        "/portal/portfolio?format=json",
        "/portal/services/payments/ledger",
        "/portal/services/payments/fx-rates",
    ];
    let warm = dana.clone();
    tokio::task::spawn_blocking(move || {
        for view in views {
            assert_eq!(get(port, view, Some(&warm)).code, 200, "{view}");
        }
    })
    .await
    .unwrap();

    let faults = running.server.faults();
    faults.fail_fraction(charter_apiserver::Matcher::default(), 503, 1.0);
    tokio::task::spawn_blocking(move || {
        for view in views {
            let answer = get(port, view, Some(&dana));
            assert_eq!(
                answer.code, 200,
                "{view} while the API server fails: {}",
                answer.body
            );
        }
        let unjudged = get(port, "/portal", Some(&outsider));
        assert_eq!(unjudged.code, 503, "{}", unjudged.body);
        assert!(!unjudged.body.contains("ledger"), "{}", unjudged.body);
    })
    .await
    .unwrap();
    assert!(
        faults.injected().errors.get(&503).is_some_and(|n| *n >= 1),
        "the unjudged viewer's TokenReview failed"
    );
    faults.clear();
}
