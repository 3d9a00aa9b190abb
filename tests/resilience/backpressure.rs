//! Every pool connection held: further requests get 503 within the pool's wait, never a 500,
//! and the service recovers once the connections are released.

use std::time::{Duration, Instant};

use diesel_async::SimpleAsyncConnection;

use crate::replica::Replica;
use crate::support::TestApp;
use crate::{number, p50_and_max, serially};

#[actix_web::test]
async fn with_every_connection_held_requests_get_503_and_service_resumes() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    // One worker with a pool of two: two stuck requests hold every connection.
    let replica = Replica::start(
        &app.db.url,
        &[
            ("PROLO_WORKERS", "1"),
            ("PROLO_POOL_SIZE", "2"),
            ("PROLO_POOL_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    // Hold the API keys table: every authenticated request blocks on it, holding its
    // connection, until the lock goes.
    let mut locker = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    locker
        .batch_execute("BEGIN; LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let held: Vec<_> = (0..2)
        .map(|_| {
            let (addr, key) = (replica.addr, app.admin_key.clone());
            tokio::spawn(async move {
                let auth = format!("Bearer {key}");
                let headers = [("Authorization", auth.as_str())];
                crate::support::http::request(addr, "GET", "/v1/locations", None, &headers).await
            })
        })
        .collect();
    let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE wait_event_type = 'Lock' AND query LIKE '%api_keys%'";
    let started = Instant::now();
    while number(&app.db.url, waiting).await < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the two never got stuck"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut refused = Vec::new();
    for _ in 0..10 {
        let sent = Instant::now();
        let reply = replica
            .send("GET", "/v1/locations", None, Some(&app.admin_key), &[])
            .await;
        refused.push(sent.elapsed());
        assert_eq!(reply.status, 503, "{reply:?}");
        assert!(reply.header("retry-after").is_some());
        assert_eq!(reply.body["type"], "/problems/service-unavailable");
    }
    let (p50, max) = p50_and_max(&mut refused);
    assert!(
        max < 3000.0,
        "refused within the 1 s pool wait (and some slack), not hung: {max} ms"
    );
    locker.batch_execute("COMMIT").await.unwrap();
    for stuck in held {
        assert_eq!(stuck.await.unwrap().status, 200, "the held requests finish");
    }
    for _ in 0..10 {
        let reply = replica
            .send("GET", "/v1/locations", None, Some(&app.admin_key), &[])
            .await;
        assert_eq!(reply.status, 200);
    }
    println!(
        "backpressure: pool of 2 held; 10 further requests -> 503 + Retry-After, \
         p50 {p50:.0} ms, max {max:.0} ms (pool wait 1 s); all 200 once released"
    );
}
