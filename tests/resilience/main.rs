//! The resilience suite: real `prolo-scheduler serve` processes over a real PostgreSQL, with
//! the faults injected for real (replicas racing, the database stopped, processes killed,
//! pools exhausted, hostile clients). Each test prints the figures the README reports.
//!
//! Its tests run one at a time (see [`serially`]): they measure timeouts, which two cores
//! shared with the rest of the suite would blur.

#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod backpressure;
mod crashes;
mod hostile_input;
mod metrics;
mod notifications;
mod online;
mod outage;
mod proxies;
mod replica;
mod replicas;
mod shutdown;
mod standby;
mod waitlist;
mod webhooks;

use std::time::Duration;

use replica::Replica;
use support::http::WireReply;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Holds the suite's one-at-a-time lock for a test's lifetime.
pub async fn serially() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// `n` replicas over one database, each with a pool that waits long enough for any race here.
pub async fn replicas(database_url: &str, n: usize) -> Vec<Replica> {
    let mut replicas = Vec::new();
    for _ in 0..n {
        let replica = Replica::start(database_url, &[("PROLO_POOL_TIMEOUT_SECS", "30")]).await;
        assert!(replica.until_ready(Duration::from_secs(30)).await);
        replicas.push(replica);
    }
    replicas
}

/// How many replies have `status`.
pub fn count(replies: &[WireReply], status: u16) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

/// The statuses, for assertion messages.
pub fn statuses(replies: &[WireReply]) -> Vec<u16> {
    replies.iter().map(|r| r.status).collect()
}

/// Every answer is a problem document (RFC 9457) when it is an error.
pub fn assert_problems(replies: &[WireReply]) {
    for reply in replies.iter().filter(|r| r.status >= 400) {
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{reply:?}"
        );
        assert!(reply.body["type"].is_string(), "{reply:?}");
    }
}

/// The p50 and the largest of `durations`, in milliseconds.
pub fn p50_and_max(durations: &mut [Duration]) -> (f64, f64) {
    durations.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    match durations {
        [] => (0.0, 0.0),
        _ => (
            ms(durations[durations.len() / 2]),
            ms(durations[durations.len() - 1]),
        ),
    }
}

/// One number from the database at `url` (a query selecting `n`).
pub async fn number(url: &str, sql: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = prolo_scheduler::db::establish(url).await.unwrap();
    diesel::sql_query(sql)
        .get_result::<Row>(&mut conn)
        .await
        .unwrap()
        .n
}
