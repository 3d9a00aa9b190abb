//! A minimal HTTP/1.1 client for the benchmark's set-up calls (the load itself comes from wrk).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use serde_json::Value;

/// One request over a fresh connection; the status and the body parsed as JSON (`Null` if not).
pub fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(payload.as_bytes()))
        .map_err(|e| format!("send {path}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read {path}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{path}: no status line"))?;
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The size of the body `path` answers with, as sent plainly and as sent gzipped (chunked
/// framing removed): what a visitor's browser downloads.
pub fn answer_bytes(addr: SocketAddr, path: &str, key: &str) -> Result<(usize, usize), String> {
    let mut sizes = [0; 2];
    for (size, encoding) in sizes.iter_mut().zip(["identity", "gzip"]) {
        let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Authorization: Bearer {key}\r\nAccept-Encoding: {encoding}\r\n\r\n"
        );
        stream
            .write_all(head.as_bytes())
            .map_err(|e| format!("send {path}: {e}"))?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .map_err(|e| format!("read {path}: {e}"))?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("{path}: no head"))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body = &raw[split + 4..];
        if !head.starts_with("http/1.1 200") {
            return Err(format!("{path}: not 200"));
        }
        if encoding == "gzip" && !head.contains("content-encoding: gzip") {
            return Err(format!("{path}: not gzipped"));
        }
        *size = if head.contains("transfer-encoding: chunked") {
            unchunked_len(body)
        } else {
            body.len()
        };
    }
    Ok((sizes[0], sizes[1]))
}

/// The length of a chunked body's data.
fn unchunked_len(mut body: &[u8]) -> usize {
    let mut total = 0;
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&body[..end]);
        let size =
            usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        total += size;
        body = body.get(end + 2 + size + 2..).unwrap_or_default();
    }
    total
}

/// Waits until the service answers `/healthz` with 200, for at most `tries` tenths of a second.
/// It listens only once its migrations have run; liveness rather than readiness lets an older
/// build (`--service`, a before figure) serve a schema migrated further than it knows.
pub fn wait_ready(addr: SocketAddr, tries: u32) -> Result<(), String> {
    for _ in 0..tries {
        if matches!(call(addr, "GET", "/healthz", "", None), Ok((200, _))) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!("the service at {addr} did not become ready"))
}
