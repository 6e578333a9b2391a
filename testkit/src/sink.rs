//! A CloudEvents sink for tests: a local HTTP server that records every request it receives and
//! checks its HMAC-SHA256 signature. It can be taken down (its port then refuses connections)
//! and brought back up on the same port.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::task::JoinHandle;

/// One request received.
#[derive(Clone, Debug)]
pub struct Received {
    pub event: Value,
    pub content_type: String,
    /// Whether `x-charter-signature` is the HMAC-SHA256 of the body under the sink's key.
    pub signed: bool,
}

/// The key signatures are checked with, and what was received.
type Shared = (Vec<u8>, Arc<Mutex<Vec<Received>>>);

pub struct TestSink {
    pub addr: SocketAddr,
    key: Vec<u8>,
    received: Arc<Mutex<Vec<Received>>>,
    server: Option<JoinHandle<()>>,
}

impl TestSink {
    /// A sink on a free loopback port, up, checking signatures with `key`.
    pub async fn start(key: &[u8]) -> TestSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let mut sink = TestSink {
            addr: listener.local_addr().expect("an address"),
            key: key.to_vec(),
            received: Arc::default(),
            server: None,
        };
        sink.serve(listener);
        sink
    }

    pub fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let state = (self.key.clone(), self.received.clone());
        let app = Router::new()
            .route("/events", post(receive))
            .with_state(state);
        self.server = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    /// Stops listening: connections are refused until `up`.
    pub async fn down(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// Listens again on the same port.
    pub async fn up(&mut self) {
        assert!(self.server.is_none(), "the sink is already up");
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("the sink's port again");
        self.serve(listener);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }
}

async fn receive(
    State((key, received)): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(&body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let signed = headers
        .get("x-charter-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("sha256={expected}"));
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    received.lock().expect("not poisoned").push(Received {
        event,
        content_type,
        signed,
    });
    StatusCode::ACCEPTED
}
