//! Posting one CloudEvent to a sink: HTTPS through the hyper and rustls stack kube already
//! uses (plain HTTP only to loopback), a bearer token or an HMAC-SHA256 signature of the body.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use rustls::pki_types::{CertificateDer, pem::PemObject};
use sha2::Sha256;

use super::cloudevent::CloudEvent;

/// The header carrying the HMAC-SHA256 of the body, as `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-charter-signature";
/// What a sink is told when no timeout is set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a delivery failed: the Ready condition's reason and message.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("the sink URL {0:?} is not an http(s) URL")]
    InvalidUrl(String),
    #[error("plain http is allowed only to loopback; use https for {0}")]
    PlainHttp(String),
    #[error("the CA bundle holds no usable certificate: {0}")]
    CaBundle(String),
    #[error("the credentials cannot be read: {0}")]
    Credentials(String),
    #[error("the sink did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the sink cannot be reached: {0}")]
    Unreachable(String),
    #[error("the sink answered HTTP {0}")]
    Status(u16),
}

impl SinkError {
    /// The condition reason.
    pub fn reason(&self) -> &'static str {
        match self {
            SinkError::InvalidUrl(_) | SinkError::PlainHttp(_) => "InvalidSink",
            SinkError::CaBundle(_) => "InvalidCABundle",
            SinkError::Credentials(_) => "CredentialsUnavailable",
            SinkError::Timeout(_) => "SinkTimeout",
            SinkError::Unreachable(_) => "SinkUnreachable",
            SinkError::Status(_) => "SinkRefused",
        }
    }
}

/// How a delivery authenticates.
#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    None,
    Bearer(String),
    Hmac(Vec<u8>),
}

/// One sink's HTTP client, built from its URL, CA bundle and timeout.
pub struct Sink {
    url: http::Uri,
    timeout: Duration,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Sink {
    pub fn new(url: &str, ca_bundle: Option<&str>, timeout: Duration) -> Result<Self, SinkError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| SinkError::InvalidUrl(url.to_owned()))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(uri.host().unwrap_or_default()) => {}
            Some("http") => return Err(SinkError::PlainHttp(url.to_owned())),
            _ => return Err(SinkError::InvalidUrl(url.to_owned())),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match ca_bundle {
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let cert = cert.map_err(|e| SinkError::CaBundle(e.to_string()))?;
                    roots
                        .add(cert)
                        .map_err(|e| SinkError::CaBundle(e.to_string()))?;
                }
                if roots.is_empty() {
                    return Err(SinkError::CaBundle("no certificate".into()));
                }
                let tls = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| SinkError::CaBundle(e.to_string()))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                builder.with_tls_config(tls)
            }
            None => builder
                .with_provider_and_native_roots(provider)
                .map_err(|e| SinkError::CaBundle(e.to_string()))?,
        };
        let connector = builder.https_or_http().enable_http1().build();
        Ok(Sink {
            url: uri,
            timeout,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// POSTs the event in structured mode; Ok once the sink answered 2xx.
    pub async fn deliver(&self, event: &CloudEvent, auth: &Auth) -> Result<(), SinkError> {
        let body = serde_json::to_vec(event).expect("a CloudEvent always serialises");
        let mut request = http::Request::post(self.url.clone()).header(
            http::header::CONTENT_TYPE,
            "application/cloudevents+json; charset=utf-8",
        );
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
            }
            Auth::Hmac(key) => request = request.header(SIGNATURE_HEADER, signature(key, &body)),
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SinkError::Unreachable(e.to_string()))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| SinkError::Timeout(self.timeout))?
            .map_err(|e| SinkError::Unreachable(error_chain(&e)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SinkError::Status(response.status().as_u16()))
        }
    }
}

/// `sha256=<hex of HMAC-SHA256(key, body)>`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_test_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let t = DEFAULT_TIMEOUT;
        assert!(Sink::new("http://127.0.0.1:9/x", None, t).is_ok());
        assert!(Sink::new("http://localhost/x", None, t).is_ok());
        assert!(Sink::new("http://[::1]:80/", None, t).is_ok());
        assert!(matches!(
            Sink::new("http://sink.example.com/", None, t),
            Err(SinkError::PlainHttp(_))
        ));
        assert!(matches!(
            Sink::new("ftp://sink.example.com/", None, t),
            Err(SinkError::InvalidUrl(_))
        ));
        assert!(matches!(
            Sink::new("https://sink.example.com/", Some("not a certificate"), t),
            Err(SinkError::CaBundle(_))
        ));
    }
}
