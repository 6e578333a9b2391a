//! `cargo bench --bench portal`: the portal's pages at N Services (`CHARTER_BENCH_N`, default
//! 10,000) over HTTP, as a signed-in viewer whose access answers are cached (the steady state:
//! a page view then costs no API call). The Services are put straight into a reflector store
//! shown through the controller's window; the embedded API server answers the access checks.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use charter::api::{DesiredPhase, Phase, Service, ServiceLevel, ServiceStatus, Snapshot, Tier};
use charter_apiserver::{Config as ServerConfig, UserSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::{reflector, watcher};

// The same allocator as the `charter` binary.
charter::jemalloc!();

const TIERS: [Tier; 4] = [Tier::Critical, Tier::High, Tier::Medium, Tier::Low];

/// Service `i` of N: spread over 100 namespaces, 250 owners, 4 tiers and 20 categories, each
/// depending on the one before it.
fn service(i: usize) -> Service {
    let namespace = format!("team-{:03}", i % 100);
    let mut builder = testkit::draft(&format!("svc-{i}"))
        .in_namespace(&namespace)
        .owner(&format!("owner-{}", i % 250))
        .desired(DesiredPhase::Active)
        .display_name(&format!("Service number {i}"))
        .description(&format!(
            "Service {i} does one useful thing for the teams of its namespace, with a description \
             long enough to be truncated in the table and searched in full ({i})."
        ))
        .tier(TIERS[i % 4])
        .categorised(&format!("Category {}", i % 20), &[]);
    builder.0.spec.content.service_level = Some(ServiceLevel {
        availability: Some(format!("99.{}", i % 100)),
        ..Default::default()
    });
    if i > 0 {
        let before = (
            format!("team-{:03}", (i - 1) % 100),
            format!("svc-{}", i - 1),
        );
        builder = builder.depends_on_in(&before.0, &before.1);
    }
    let mut s = builder.build();
    let spec = s.spec.clone();
    // 80% in the catalog, 15% in the pipeline, 5% retired.
    let phase = match i % 20 {
        0..=15 => Phase::Active,
        16 => Phase::Planning,
        17 => Phase::Approval,
        18 => Phase::Development,
        _ => Phase::Retired,
    };
    s.status = Some(ServiceStatus {
        phase: Some(phase),
        revision: Some("0123456789".into()),
        snapshot: (phase == Phase::Active).then(|| Snapshot {
            revision: "0123456789".into(),
            approved_by: vec!["ava".into()],
            approved_at: Time(Default::default()),
            content: spec.content,
            revised_by: None,
            policies: vec![],
        }),
        ..Default::default()
    });
    s
}

fn get(port: u16, path: &str, token: &str) -> (u16, usize) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("the portal");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("sent");
    let mut body = Vec::new();
    stream.read_to_end(&mut body).expect("an answer");
    let text = String::from_utf8_lossy(&body[..12.min(body.len())]).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, body.len())
}

fn main() {
    let n: usize = std::env::var("CHARTER_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (_server, port, token) = runtime.block_on(async {
        let (server, operator, _admin) = charter::cli::sandbox::secured_server(
            ServerConfig {
                users: vec![UserSpec::new("dana", &["users"])],
                ..ServerConfig::default()
            },
            "users",
        )
        .await
        .expect("a secured server");
        // Filled as the controller fills its caches: with the cached form of each Service.
        let (store, writer) = reflector::store();
        let mut reflect = charter::cached::reflect(writer);
        for i in 0..n {
            reflect(&Ok(watcher::Event::Apply(service(i))));
        }
        let window = charter::controller::Window::default();
        window.show(vec![store]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = charter::portal::router(charter::portal::Portal {
            window,
            access: charter::access::Access::new(operator),
            catalog_namespace: charter::deploy::CATALOG_NAMESPACE.into(),
            anonymous_catalog: false,
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        let token = server.token_of("dana").expect("dana's token");
        (server, port, token)
    });
    let pages = [
        ("catalog, first page", "/portal".to_owned()),
        ("catalog, page 50", "/portal?page=50".to_owned()),
        (
            "catalog, tier and search",
            "/portal?tier=High&q=useful+9".to_owned(),
        ),
        (
            "catalog, sorted by availability",
            "/portal?sort=availability&order=desc".to_owned(),
        ),
        (
            "catalog as CSV (every row)",
            "/portal?format=csv".to_owned(),
        ),
        (
            "catalog as JSON (every row)",
            "/portal?format=json".to_owned(),
        ),
        ("portfolio", "/portal/portfolio".to_owned()),
        (
            "service page",
            format!("/portal/services/team-042/svc-{}", n / 2 + 42),
        ),
    ];
    println!("portal at N = {n} Services (median of 20 requests, access answers cached)");
    println!("{:<34} {:>10} {:>12}", "page", "median", "bytes");
    let mut json = serde_json::Map::new();
    for (name, path) in pages {
        // The first request asks the API server (TokenReview, SubjectAccessReviews).
        let (code, _) = get(port, &path, &token);
        assert_eq!(code, 200, "{path}");
        let mut times: Vec<Duration> = Vec::new();
        let mut bytes = 0;
        for _ in 0..20 {
            let started = Instant::now();
            let (code, len) = get(port, &path, &token);
            times.push(started.elapsed());
            assert_eq!(code, 200, "{path}");
            bytes = len;
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "{name:<34} {:>8.1}ms {bytes:>12}",
            median.as_secs_f64() * 1e3
        );
        json.insert(
            name.into(),
            serde_json::json!((median.as_secs_f64() * 1e4).round() / 10.0),
        );
    }
    println!("{}", serde_json::Value::Object(json));
}
