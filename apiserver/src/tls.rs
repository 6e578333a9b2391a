//! HTTPS serving. The real `kubectl` refuses to send a bearer token over plain http, so the
//! server speaks TLS with a throwaway certificate: a self-signed CA (which goes into the
//! kubeconfig as `certificate-authority-data`) and a leaf it signs for `localhost`,
//! `127.0.0.1` and `::1` (which is what the server presents, with the CA as its chain).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a client gets to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests get to finish after `stop` before their connection is dropped
/// (watches never finish on their own).
const GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A serving certificate: `cert_pem` (the leaf, for `localhost`, `127.0.0.1`, `::1`) and its
/// `key_pem` (PKCS#8), signed by the CA `ca_pem`, which is what clients trust.
#[derive(Clone, Debug)]
pub struct Certificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

/// A fresh CA and a leaf it signs for `localhost`, `127.0.0.1` and `::1` (ECDSA P-256).
pub fn self_signed() -> Result<Certificate, TlsError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "charter-apiserver-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "charter-apiserver");
    params.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;

    Ok(Certificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca_pem: ca_cert.pem(),
    })
}

/// A fresh ECDSA P-256 key pair as PEM: the private key (PKCS#8) and the public key (SPKI).
/// The real control plane signs ServiceAccount tokens with it (kube-apiserver reads public
/// keys from a private key file only in the older PKCS#1/SEC 1 forms, hence both).
pub fn signing_key_pem() -> Result<(String, String), TlsError> {
    let key = KeyPair::generate()?;
    Ok((key.serialize_pem(), key.public_key_pem()))
}

/// The `cluster` entry of a kubeconfig that reaches `url` and trusts `cert`'s CA.
pub fn kubeconfig_cluster(url: &str, cert: &Certificate) -> serde_json::Value {
    serde_json::json!({
        "server": url,
        "certificate-authority-data":
            base64::engine::general_purpose::STANDARD.encode(cert.ca_pem.as_bytes()),
    })
}

/// The TLS acceptor presenting `cert` (leaf followed by its CA), ALPN `http/1.1`.
pub fn acceptor(cert: &Certificate) -> Result<TlsAcceptor, TlsError> {
    let mut chain = Vec::new();
    for pem in [&cert.cert_pem, &cert.ca_pem] {
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            chain.push(der?);
        }
    }
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes())?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serve `app` over HTTPS on `listener` until `stop` is cancelled.
///
/// The TLS setup happens now (so a bad certificate is an error here); the returned future is
/// the accept loop, `'static`, to be spawned. A connection whose handshake fails is dropped.
/// On `stop` the loop stops accepting, in-flight requests get [`GRACE`] to finish, then the
/// remaining connections (watches) are dropped and the future completes.
pub fn serve(
    listener: TcpListener,
    app: axum::Router,
    cert: &Certificate,
    stop: CancellationToken,
) -> Result<impl Future<Output = ()> + Send + 'static, TlsError> {
    let acceptor = acceptor(cert)?;
    Ok(async move {
        let mut connections = JoinSet::new();
        loop {
            let (tcp, peer) = tokio::select! {
                _ = stop.cancelled() => break,
                // Reap finished connections so the set does not grow without bound.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and the like: back off rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            let stop = stop.clone();
            connections.spawn(async move {
                let tls = tokio::select! {
                    _ = stop.cancelled() => return,
                    r = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => match r {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    },
                };
                let builder = auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection_with_upgrades(
                    TokioIo::new(tls),
                    TowerToHyperService::new(app),
                );
                tokio::pin!(conn);
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    }
                    _ = stop.cancelled() => {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(GRACE, conn).await;
                    }
                }
            });
        }
        drop(listener);
        // Every task ends within GRACE of `stop`; abort stragglers anyway.
        if tokio::time::timeout(GRACE * 2, async {
            while connections.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            connections.abort_all();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::State;
    use axum::http::{HeaderMap, Request};
    use axum::routing::get;
    use futures::AsyncBufReadExt as _;
    use std::sync::Mutex;
    use tokio::sync::Notify;

    #[derive(Default)]
    struct Seen {
        authorization: Mutex<Vec<String>>,
        release: Notify,
    }

    const GIT_VERSION: &str = "v1.32.0-charter-tls-test";

    async fn version(
        State(seen): State<Arc<Seen>>,
        headers: HeaderMap,
    ) -> axum::response::Response {
        if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            seen.authorization.lock().unwrap().push(a.to_string());
        }
        let body = serde_json::json!({
            "major": "1", "minor": "32", "gitVersion": GIT_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
            "platform": "linux/amd64",
        });
        axum::response::Response::builder()
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    /// Three chunks; the last two only after the test calls `release.notify_one()`, so the
    /// first must reach the client while the response is still open.
    async fn chunks(State(seen): State<Arc<Seen>>) -> axum::response::Response {
        let stream = futures::stream::unfold(0u8, move |i| {
            let seen = seen.clone();
            async move {
                match i {
                    0 => Some((Ok::<_, std::io::Error>("one\n"), 1)),
                    1 => {
                        seen.release.notified().await;
                        Some((Ok("two\n"), 2))
                    }
                    2 => Some((Ok("three\n"), 3)),
                    _ => None,
                }
            }
        });
        axum::response::Response::new(Body::from_stream(stream))
    }

    use serde_json::Value;

    struct Running {
        url: String,
        cert: Certificate,
        seen: Arc<Seen>,
        stop: CancellationToken,
        task: tokio::task::JoinHandle<()>,
    }

    async fn start() -> Running {
        let seen = Arc::new(Seen::default());
        let app = axum::Router::new()
            .route("/version", get(version))
            .route("/chunks", get(chunks))
            .with_state(seen.clone());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let cert = self_signed().unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, app, &cert, stop.clone()).unwrap());
        Running {
            url,
            cert,
            seen,
            stop,
            task,
        }
    }

    fn kubeconfig(url: &str, cert: &Certificate) -> String {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": kubeconfig_cluster(url, cert)}],
            "users": [{"name": "u", "user": {"token": "sekret-token"}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
            "current-context": "c",
        })
        .to_string()
    }

    async fn client(url: &str, cert: &Certificate) -> kube::Client {
        let kc = kube::config::Kubeconfig::from_yaml(&kubeconfig(url, cert)).unwrap();
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .unwrap();
        kube::Client::try_from(cfg).unwrap()
    }

    #[test]
    fn certificate_and_cluster_entry() {
        let cert = self_signed().unwrap();
        assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(cert.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(cert.key_pem.contains("PRIVATE KEY"));
        assert_ne!(cert.cert_pem, cert.ca_pem);
        let cluster = kubeconfig_cluster("https://127.0.0.1:1", &cert);
        assert_eq!(cluster["server"], "https://127.0.0.1:1");
        let ca = base64::engine::general_purpose::STANDARD
            .decode(cluster["certificate-authority-data"].as_str().unwrap())
            .unwrap();
        assert_eq!(ca, cert.ca_pem.as_bytes());
    }

    #[tokio::test]
    async fn kube_client_over_https_with_streaming_and_bad_handshake() {
        let s = start().await;
        let client = client(&s.url, &s.cert).await;

        let info = client.apiserver_version().await.unwrap();
        assert_eq!(info.git_version, GIT_VERSION);
        assert_eq!(
            s.seen
                .authorization
                .lock()
                .unwrap()
                .last()
                .map(String::as_str),
            Some("Bearer sekret-token")
        );

        // A plain-http client fails its handshake; the server carries on.
        let mut plain = tokio::net::TcpStream::connect(s.url.trim_start_matches("https://"))
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut plain, b"GET /version HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut plain, &mut buf),
        )
        .await
        .expect("the server drops a connection whose handshake fails");
        assert!(client.apiserver_version().await.is_ok());

        // Chunks flow while the response is open.
        let req = Request::get("/chunks").body(Vec::new()).unwrap();
        let mut lines = client.request_stream(req).await.unwrap().lines();
        use futures::StreamExt as _;
        let first = tokio::time::timeout(Duration::from_secs(5), lines.next())
            .await
            .expect("first chunk arrives before the response ends");
        assert_eq!(first.unwrap().unwrap(), "one");
        s.seen.release.notify_one();
        let rest: Vec<String> = lines.map(|l| l.unwrap()).collect().await;
        assert_eq!(rest, ["two", "three"]);

        // Stop with a response still streaming: the server ends promptly anyway.
        let req = Request::get("/chunks").body(Vec::new()).unwrap();
        let mut open = client.request_stream(req).await.unwrap().lines();
        assert_eq!(open.next().await.unwrap().unwrap(), "one");
        s.stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), s.task)
            .await
            .expect("serve ends within the grace period")
            .unwrap();
    }

    #[tokio::test]
    async fn kubectl_version_over_https() {
        let Some(kubectl) = std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("kubectl"))
                .find(|f| f.is_file())
        }) else {
            eprintln!("kubectl not on PATH: skipping kubectl_version_over_https");
            return;
        };
        let s = start().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, kubeconfig(&s.url, &s.cert)).unwrap();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(kubectl)
                .arg("--kubeconfig")
                .arg(&path)
                .args(["version", "-o", "json", "--request-timeout=20s"])
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(
            out.status.success(),
            "kubectl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["serverVersion"]["gitVersion"], GIT_VERSION, "{v}");
        assert!(
            s.seen
                .authorization
                .lock()
                .unwrap()
                .iter()
                .any(|a| a == "Bearer sekret-token"),
            "kubectl did not send the bearer token"
        );
        s.stop.cancel();
        s.task.await.unwrap();
    }
}
