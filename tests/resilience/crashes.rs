//! `kill -9` of a replica, again and again, while clients book and retry with their
//! idempotency keys: every booking answered 201 is in the database, once, and none overlap.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::{clinic, new_patient};
use crate::support::http::try_request;
use crate::{number, replicas, serially};

const BOOKINGS: usize = 60;
const KILLS: usize = 6;

#[actix_web::test]
async fn killing_replicas_during_booking_load_loses_and_duplicates_nothing() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let mut bodies = Vec::new();
    for n in 0..BOOKINGS {
        let patient = new_patient(&app, &format!("k{n}@example.com")).await;
        // 52 distinct 40-minute blocks over four days, and 8 that overlap one of them.
        let block = if n < 52 { n } else { (n - 52) * 6 };
        let day = 5 + block / 13;
        let minutes = 8 * 60 + (block % 13) * 40 + if n < 52 { 0 } else { 10 };
        let mut body = c.booking(
            "injection",
            &format!(
                "2027-01-{day:02}T{:02}:{:02}:00-07:00",
                minutes / 60,
                minutes % 60
            ),
        );
        body["patient_id"] = json!(patient);
        bodies.push(body);
    }
    let mut pair = replicas(&app.db.url, 2).await;
    let addrs = Arc::new(Mutex::new(vec![pair[0].addr, pair[1].addr]));
    let mut victim = pair.remove(0);
    let _survivor = pair.remove(0);

    let clients: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| {
            let (addrs, key) = (addrs.clone(), app.admin_key.clone());
            tokio::spawn(async move {
                // Spread the starts over the kills.
                tokio::time::sleep(Duration::from_millis(40 * n as u64)).await;
                book_until_answered(&addrs, &key, &format!("crash-{n}"), &body, n).await
            })
        })
        .collect();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(350)).await;
        victim.signal(libc::SIGKILL);
        victim.exited_within(Duration::from_secs(10)).await.unwrap();
        victim = Replica::start(&app.db.url, &[("PROLO_POOL_TIMEOUT_SECS", "30")]).await;
        addrs.lock().unwrap()[0] = victim.addr;
    }
    let mut answers = Vec::new();
    for client in clients {
        answers.push(client.await.unwrap());
    }

    let retries: usize = answers.iter().map(|a| a.attempts - 1).sum();
    let booked: Vec<&str> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.session_id.as_deref().unwrap())
        .collect();
    assert!(
        answers.iter().all(|a| a.status == 201 || a.status == 409),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for id in &booked {
        let sql = format!("SELECT count(*) AS n FROM sessions WHERE id = '{id}'");
        assert_eq!(
            number(&app.db.url, &sql).await,
            1,
            "answered 201 yet missing: {id}"
        );
    }
    let rows = number(&app.db.url, "SELECT count(*) AS n FROM sessions").await;
    assert_eq!(rows as usize, booked.len(), "no session without its 201");
    let overlaps = number(
        &app.db.url,
        "SELECT count(*) AS n FROM sessions a JOIN sessions b ON a.id < b.id \
         AND a.provider_id = b.provider_id \
         AND tstzrange(a.starts_at, a.held_until) && tstzrange(b.starts_at, b.held_until)",
    )
    .await;
    assert_eq!(overlaps, 0);
    // An overlapping extra that wins blocks at most two of the distinct blocks.
    assert!(booked.len() >= 44, "the calendar filled: {}", booked.len());
    println!(
        "crashes: {KILLS} kill -9 during {BOOKINGS} bookings ({retries} retries with their \
         idempotency keys) -> {} x 201 all in the database, {} x 409, {rows} rows, 0 overlaps",
        booked.len(),
        BOOKINGS - booked.len()
    );
}

struct Answer {
    status: u16,
    session_id: Option<String>,
    attempts: usize,
}

/// Sends the booking until a definitive answer (201 or 4xx), retrying refused or cut
/// connections and 503s with the same idempotency key, alternating between the replicas.
async fn book_until_answered(
    addrs: &Mutex<Vec<SocketAddr>>,
    key: &str,
    idempotency_key: &str,
    body: &serde_json::Value,
    n: usize,
) -> Answer {
    let auth = format!("Bearer {key}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Idempotency-Key", idempotency_key),
    ];
    for attempt in 1..=200 {
        let addr = {
            let addrs = addrs.lock().unwrap();
            addrs[(n + attempt) % addrs.len()]
        };
        match try_request(addr, "POST", "/v1/sessions", Some(body), &headers).await {
            Ok(reply) if reply.status != 503 => {
                return Answer {
                    status: reply.status,
                    session_id: reply.body["id"].as_str().map(str::to_owned),
                    attempts: attempt,
                };
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("no answer after 200 attempts");
}
