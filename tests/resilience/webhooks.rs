//! Webhooks from real replicas to a real receiver (the Standard Webhooks reference verifier
//! checks each request): two replicas racing deliver each attempt once, and a replica killed
//! while its request is in flight leaves the delivery to another.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::{clinic, new_patient};
use crate::support::webhooks::Receiver;
use crate::{number, serially};

/// Replicas that deliver webhooks (and nothing else in the background), quickly.
async fn hook_replica(url: &str) -> Replica {
    let env = [
        ("PROLO_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("PROLO_WEBHOOK_ALLOW_INSECURE", "true"),
        ("PROLO_WEBHOOKS_POLL_MS", "50"),
        ("PROLO_WEBHOOK_LEASE_SECS", "15"),
    ];
    let replica = Replica::start(url, &env).await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    replica
}

/// Registers the receiver's `name` for `session.booked`; answers the secret.
async fn register(app: &TestApp, receiver: &Receiver, name: &str) -> String {
    let body = json!({"url": receiver.url(name), "event_types": ["session.booked"]});
    let created = app
        .post("/v1/webhook-endpoints", body)
        .await
        .expect(201)
        .body;
    let secret = created["secret"].as_str().unwrap().to_owned();
    receiver.trust(name, &[&secret]);
    secret
}

/// Waits up to `limit` for `name` to have received `n` requests.
async fn until_received(receiver: &Receiver, name: &str, n: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if receiver.received_by(name).len() >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[actix_web::test]
async fn two_replicas_racing_deliver_each_event_once() {
    let _serial = serially().await;
    const BOOKINGS: usize = 120;
    let app = TestApp::new().await;
    let mut c = clinic(&app).await;
    let receiver = Receiver::start().await;
    register(&app, &receiver, "billing").await;
    for n in 0..BOOKINGS {
        c.patient = new_patient(&app, &format!("hook{n}@example.com")).await;
        let day = [5, 6, 7, 8, 11, 12, 13, 14][n / 16];
        let minutes = 8 * 60 + (n % 16) * 30;
        let starts_at = format!(
            "2027-01-{day:02}T{:02}:{:02}:00-07:00",
            minutes / 60,
            minutes % 60
        );
        app.post("/v1/sessions", c.booking("follow_up", &starts_at))
            .await
            .expect(201);
    }
    let started = Instant::now();
    let replicas = [
        hook_replica(&app.db.url).await,
        hook_replica(&app.db.url).await,
    ];
    assert!(until_received(&receiver, "billing", BOOKINGS, Duration::from_secs(60)).await);
    let took = started.elapsed();
    // Anything sent twice would arrive within the next rounds.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = receiver.received_by("billing");
    assert_eq!(got.len(), BOOKINGS, "every event once");
    let ids: HashSet<&str> = got.iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(ids.len(), BOOKINGS);
    assert!(
        got.iter().all(|h| h.verified == [0]),
        "every signature verifies"
    );
    let attempts = number(&app.db.url, "SELECT count(*) AS n FROM webhook_attempts").await;
    assert_eq!(attempts, BOOKINGS as i64, "one attempt each");
    let delivered =
        "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1";
    assert_eq!(number(&app.db.url, delivered).await, BOOKINGS as i64);
    drop(replicas);
    println!(
        "webhooks: {BOOKINGS} events over 2 racing replicas -> {BOOKINGS} requests, 0 twice, all verified, in {:.1} s",
        took.as_secs_f64()
    );
}

#[actix_web::test]
async fn a_replica_killed_with_its_request_in_flight_leaves_the_delivery_to_another() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    register(&app, &receiver, "ehr").await;
    // The receiver holds the first request unanswered while its sender dies.
    receiver.answer("ehr", "slow:5");
    app.post(
        "/v1/sessions",
        c.booking("assessment", "2027-01-05T10:00:00-07:00"),
    )
    .await
    .expect(201);
    let mut doomed = hook_replica(&app.db.url).await;
    assert!(until_received(&receiver, "ehr", 1, Duration::from_secs(20)).await);
    doomed.signal(libc::SIGKILL);
    assert!(doomed.exited_within(Duration::from_secs(5)).await.is_some());
    receiver.answer("ehr", "200");
    let killed_at = Instant::now();
    let _heir = hook_replica(&app.db.url).await;
    // The dead replica's claim lapses (15 s here), then the other sends it again.
    assert!(until_received(&receiver, "ehr", 2, Duration::from_secs(40)).await);
    let got = receiver.received_by("ehr");
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert!(got.iter().all(|h| h.verified == [0]));
    let delivered = "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered'";
    let deadline = Instant::now() + Duration::from_secs(10);
    while number(&app.db.url, delivered).await != 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(number(&app.db.url, delivered).await, 1);
    println!(
        "webhooks: sender killed mid-request -> delivered by the other replica {:.1} s later, same webhook-id",
        killed_at.elapsed().as_secs_f64()
    );
}
