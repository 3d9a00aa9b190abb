//! SIGTERM with a request in flight: readiness turns 503 first, the request finishes, the
//! process exits within its timeout, and the embedded PostgreSQL it started stops cleanly.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::replica::Replica;
use crate::serially;

#[actix_web::test]
async fn sigterm_drains_finishes_in_flight_requests_and_stops_the_embedded_cluster() {
    let _serial = serially().await;
    let data_dir = std::path::PathBuf::from(format!(
        "/dev/shm/prolo-resilience-{}-shutdown",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&data_dir);
    let admin = "resilience-admin-key-0123456789abcdef0123";
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_prolo-scheduler"));
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env("PROLO_DATA_DIR", &data_dir)
        .env("PROLO_BOOTSTRAP_ADMIN_KEY", admin)
        .env("PROLO_SHUTDOWN_DRAIN_SECS", "2")
        .env("PROLO_SHUTDOWN_TIMEOUT_SECS", "10")
        .env("PROLO_RATE_LIMIT_KEY", "0")
        .env("PROLO_LOG_FORMAT", "json");
    let mut replica = Replica::spawn(command).await;
    assert!(replica.until_ready(Duration::from_secs(60)).await);
    let pid_file = data_dir.join("postgres/postmaster.pid");
    assert!(pid_file.exists(), "the embedded cluster runs");

    // A request in flight: its head and half its body are sent before the signal.
    let body = serde_json::json!({"name": "Boulder", "time_zone": "America/Denver"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut in_flight = tokio::net::TcpStream::connect(replica.addr).await.unwrap();
    let head = format!(
        "POST /v1/locations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    replica.signal(libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = replica.send("GET", "/readyz", None, None, &[]).await;
    assert_eq!(ready.status, 503, "readiness goes first: {ready:?}");
    let still_served = replica.send("GET", "/healthz", None, None, &[]).await;
    assert_eq!(
        still_served.status, 200,
        "requests are still served while draining"
    );

    // After the drain the listener closes; the request in flight still completes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    in_flight.write_all(rest.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    in_flight.read_to_end(&mut raw).await.unwrap();
    let reply = crate::support::http::parse_reply(&raw).expect("an answer");
    assert_eq!(reply.status, 201, "{reply:?}");

    let status = replica
        .exited_within(Duration::from_secs(15))
        .await
        .expect("exits within drain + shutdown timeout");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}: {:?}", replica.log());
    assert!(
        !pid_file.exists(),
        "the embedded cluster was stopped cleanly"
    );
    let log = replica.log().join("\n");
    assert!(log.contains("stopping the local PostgreSQL"), "{log}");
    // Written to a pipe, not a terminal: plain text, no colour codes.
    assert!(
        !log.contains('\u{1b}'),
        "escape codes in a piped log: {log:?}"
    );
    let _ = std::fs::remove_dir_all(&data_dir);
    println!(
        "shutdown: SIGTERM -> readiness 503 within 300 ms, in-flight request answered 201 after \
         the drain, exit 0 after {:.1} s (drain 2 s, timeout 10 s), embedded cluster stopped",
        took.as_secs_f64()
    );
}
