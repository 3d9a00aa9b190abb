//! The real HTTP stack: the app served on 127.0.0.1:0 by actix's server, and a minimal
//! HTTP/1.1 client (one connection per request) for concurrent callers.

use std::net::SocketAddr;
use std::sync::Arc;

use prolo_scheduler::clock::FixedClock;
use prolo_scheduler::config::RateLimits;
use prolo_scheduler::db;
use prolo_scheduler::http::state::AppState;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running server; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Server {
    /// Serves the app over the database at `url`, with `clock`.
    pub async fn start(url: &str, clock: Arc<FixedClock>) -> Self {
        Self::start_with(url, clock, |state| state).await
    }

    /// As [`Server::start`], with the state changed by `adjust` (trusted proxies, a mailer).
    pub async fn start_with(
        url: &str,
        clock: Arc<FixedClock>,
        adjust: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let options = prolo_scheduler::config::PoolOptions {
            max_size: 8,
            timeout: std::time::Duration::from_secs(10),
        };
        let limits = RateLimits::UNLIMITED;
        let state = adjust(
            AppState::with_limits(db::pool(url, options).unwrap(), limits).with_clock(clock),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server =
            actix_web::HttpServer::new(move || prolo_scheduler::app(state.clone(), vec![]))
                .workers(2)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self { addr, handle }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

/// A response read off the wire.
#[derive(Debug, Clone)]
pub struct WireReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it is not).
    pub body: Value,
    /// The body as text (the resilience suite's metrics scrape reads it).
    #[allow(dead_code)]
    pub text: String,
}

impl WireReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request over a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> WireReply {
    try_request(addr, method, path, body, headers)
        .await
        .expect("the request failed on the wire")
}

/// Sends one request over a fresh connection; a refused or cut connection is an error.
pub async fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> std::io::Result<WireReply> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(payload.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_reply(&raw).ok_or_else(|| std::io::Error::other("no HTTP answer"))
}

/// Reads a whole `Connection: close` response off the wire.
pub fn parse_reply(raw: &[u8]) -> Option<WireReply> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())?;
    let headers = lines
        .filter_map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    Some(WireReply {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
        text: body.to_owned(),
    })
}
