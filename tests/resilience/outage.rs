//! The database stops under steady load and comes back: 503s with `Retry-After` while it is
//! away, never a hang, and service again within seconds of its return, without a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prolo_scheduler::db::embedded::LocalCluster;

use crate::replica::Replica;
use crate::{p50_and_max, serially};

const POOL_TIMEOUT: Duration = Duration::from_secs(2);

/// A PostgreSQL of the test's own, which it may stop and start; removed at the end.
pub struct OwnCluster {
    pub cluster: LocalCluster,
    root: std::path::PathBuf,
}

impl OwnCluster {
    pub async fn start(name: &str) -> Self {
        let root = std::path::PathBuf::from(format!(
            "/dev/shm/prolo-resilience-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        let cluster = LocalCluster::start(&root)
            .await
            .expect("cannot start PostgreSQL");
        cluster.ensure_database("prolo").await.unwrap();
        Self { cluster, root }
    }
}

impl Drop for OwnCluster {
    /// Whatever the outcome: an immediate shutdown of the postmaster, then the files go.
    fn drop(&mut self) {
        let pid_file = self.root.join("postgres/postmaster.pid");
        let pid = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok());
        if let Some(pid) = pid {
            unsafe { libc::kill(pid, libc::SIGQUIT) };
            std::thread::sleep(Duration::from_millis(500));
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// One answer of the load, with when it was sent and answered.
struct Sample {
    sent: Instant,
    answered: Instant,
    status: u16,
    problem_with_retry_after: bool,
}

#[actix_web::test]
async fn a_database_outage_answers_503_quickly_and_recovers_without_a_restart() {
    let _serial = serially().await;
    let own = OwnCluster::start("outage").await;
    let admin = "resilience-admin-key-0123456789abcdef0123";
    let replica = Replica::start(
        &own.cluster.url("prolo"),
        &[
            ("PROLO_POOL_TIMEOUT_SECS", "2"),
            ("PROLO_BOOTSTRAP_ADMIN_KEY", admin),
        ],
    )
    .await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, stop) = (replica.addr, stop.clone());
            tokio::spawn(async move {
                let auth = format!("Bearer {admin}");
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let headers = [("Authorization", auth.as_str())];
                    let reply = crate::support::http::try_request(
                        addr,
                        "GET",
                        "/v1/locations",
                        None,
                        &headers,
                    )
                    .await
                    .expect("the service itself stays up");
                    samples.push(Sample {
                        sent,
                        answered: Instant::now(),
                        status: reply.status,
                        problem_with_retry_after: reply.header("retry-after").is_some()
                            && reply.header("content-type") == Some("application/problem+json"),
                    });
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                samples
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    own.cluster.stop().await.unwrap();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ready = replica.send("GET", "/readyz", None, None, &[]).await;
    assert_eq!(ready.status, 503, "{ready:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restarting = Instant::now();
    own.cluster.restart().await.unwrap();
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for client in clients {
        samples.extend(client.await.unwrap());
    }

    let unexpected: Vec<u16> = samples
        .iter()
        .map(|s| s.status)
        .filter(|status| *status != 200 && *status != 503)
        .collect();
    assert!(unexpected.is_empty(), "only 200 or 503: {unexpected:?}");
    assert!(
        samples
            .iter()
            .filter(|s| s.status == 503)
            .all(|s| s.problem_with_retry_after),
        "every 503 is a problem with Retry-After"
    );
    let mut while_down: Vec<Duration> = samples
        .iter()
        .filter(|s| s.sent >= down && s.answered <= restarting)
        .map(|s| {
            assert_eq!(s.status, 503, "the database is down");
            s.answered - s.sent
        })
        .collect();
    assert!(
        !while_down.is_empty(),
        "requests were sent while it was down"
    );
    let slowest = samples.iter().map(|s| s.answered - s.sent).max().unwrap();
    assert!(
        slowest <= POOL_TIMEOUT + Duration::from_secs(2),
        "no request hangs beyond the pool's wait: {slowest:?}"
    );
    let last_error = samples
        .iter()
        .filter(|s| s.status != 200)
        .map(|s| s.answered)
        .max()
        .unwrap();
    let recovered_after = last_error.saturating_duration_since(back);
    assert!(
        recovered_after <= Duration::from_secs(5),
        "errors stop within 5 s of the database's return: {recovered_after:?}"
    );
    assert!(samples.iter().any(|s| s.sent > back && s.status == 200));
    assert_eq!(
        replica.send("GET", "/readyz", None, None, &[]).await.status,
        200
    );
    let (p50, max) = p50_and_max(&mut while_down);
    println!(
        "outage: {} requests while down, all 503 + Retry-After, p50 {p50:.1} ms, max {max:.1} ms; \
         errors stopped {:.0} ms after the database was back; slowest answer {:.0} ms",
        while_down.len(),
        recovered_after.as_secs_f64() * 1000.0,
        slowest.as_secs_f64() * 1000.0
    );
}
