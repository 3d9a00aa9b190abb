//! Three replicas over one database: the database decides every race, not the timing.

use serde_json::{Value, json};

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::{clinic, new_patient};
use crate::support::http::{WireReply, request};
use crate::{assert_problems, count, number, replicas, serially, statuses};

/// A request to send: method, path, JSON body, extra headers.
type Call = (&'static str, String, Option<Value>, Vec<(String, String)>);

/// Sends every request at once, the n-th to replica n mod 3.
async fn spread(replicas: &[Replica], key: &str, requests: Vec<Call>) -> Vec<WireReply> {
    let auth = format!("Bearer {key}");
    let tasks: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(n, (method, path, body, mut headers))| {
            let addr = replicas[n % replicas.len()].addr;
            headers.push(("Authorization".to_owned(), auth.clone()));
            tokio::spawn(async move {
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                request(addr, method, &path, body.as_ref(), &headers).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

#[actix_web::test]
async fn two_hundred_overlapping_bookings_over_three_replicas_make_one_session() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let mut patients = vec![c.patient.clone()];
    for n in 1..40 {
        patients.push(new_patient(&app, &format!("p{n}@example.com")).await);
    }
    let replicas = replicas(&app.db.url, 3).await;
    // Starts 10:00–10:36, each overlapping every other (30 min + 10 min buffer).
    let requests = (0..200)
        .map(|n| {
            let mut body = c.booking(
                "injection",
                &format!("2027-01-05T10:{:02}:00-07:00", (n % 7) * 6),
            );
            body["patient_id"] = json!(patients[n % patients.len()]);
            ("POST", "/v1/sessions".to_owned(), Some(body), vec![])
        })
        .collect();
    let replies = spread(&replicas, &app.admin_key, requests).await;
    assert_eq!(count(&replies, 201), 1, "{:?}", statuses(&replies));
    assert_eq!(count(&replies, 409), 199, "{:?}", statuses(&replies));
    assert_problems(&replies);
    let rows = number(&app.db.url, "SELECT count(*) AS n FROM sessions").await;
    assert_eq!(rows, 1);
    println!("replicas: 200 overlapping bookings over 3 replicas -> 1 x 201, 199 x 409, 1 row");
}

#[actix_web::test]
async fn a_hundred_reschedules_into_one_slot_over_three_replicas_move_one_session() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    // 100 follow-ups (20 min, no buffer) of one provider, each its own patient, over the
    // weekdays of two weeks.
    let mut sessions = Vec::new();
    for n in 0..100 {
        let patient = new_patient(&app, &format!("r{n}@example.com")).await;
        let day = [5, 6, 7, 8, 11, 12, 13, 14][n / 13];
        let minutes = 8 * 60 + (n % 13) * 40;
        let mut body = c.booking(
            "follow_up",
            &format!(
                "2027-01-{day:02}T{:02}:{:02}:00-07:00",
                minutes / 60,
                minutes % 60
            ),
        );
        body["patient_id"] = json!(patient);
        let id = app.post("/v1/sessions", body).await.expect(201).body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        sessions.push(id);
    }
    let replicas = replicas(&app.db.url, 3).await;
    let target = json!({"starts_at": "2027-01-15T16:00:00-07:00"});
    let requests = sessions
        .iter()
        .map(|id| {
            let path = format!("/v1/sessions/{id}/reschedule");
            ("POST", path, Some(target.clone()), vec![])
        })
        .collect();
    let replies = spread(&replicas, &app.admin_key, requests).await;
    assert_eq!(count(&replies, 200), 1, "{:?}", statuses(&replies));
    assert_eq!(count(&replies, 409), 99, "{:?}", statuses(&replies));
    assert_problems(&replies);
    let moved = number(
        &app.db.url,
        "SELECT count(*) AS n FROM sessions WHERE starts_at = '2027-01-15T23:00:00Z'",
    )
    .await;
    assert_eq!(moved, 1);
    println!("replicas: 100 reschedules into one slot over 3 replicas -> 1 x 200, 99 x 409");
}

#[actix_web::test]
async fn fifty_requests_with_one_idempotency_key_over_three_replicas_book_once() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let replicas = replicas(&app.db.url, 3).await;
    let body = c.booking("assessment", "2027-01-06T09:00:00-07:00");
    let key = vec![("Idempotency-Key".to_owned(), "retry-7f3a".to_owned())];
    let requests = (0..50)
        .map(|_| {
            (
                "POST",
                "/v1/sessions".to_owned(),
                Some(body.clone()),
                key.clone(),
            )
        })
        .collect();
    let replies = spread(&replicas, &app.admin_key, requests).await;
    assert_eq!(count(&replies, 201), 50, "{:?}", statuses(&replies));
    assert!(replies.iter().all(|r| r.body == replies[0].body));
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 49, "one ran, the others replayed it");
    let rows = number(&app.db.url, "SELECT count(*) AS n FROM sessions").await;
    assert_eq!(rows, 1);
    println!(
        "replicas: 50 requests, one Idempotency-Key, 3 replicas -> 1 row, 49 identical replays"
    );
}

#[actix_web::test]
async fn a_hundred_pairs_of_patches_with_one_etag_make_one_200_and_one_412_each() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let replicas = replicas(&app.db.url, 3).await;
    let path = format!("/v1/patients/{}", c.patient);
    for pair in 0..100 {
        let etag = app
            .get(&path)
            .await
            .expect(200)
            .header("etag")
            .unwrap()
            .to_owned();
        let [first, second] = [0, 1].map(|side| {
            let body = json!({"phone": format!("+1 303 555 {pair:02}{side:02}")});
            let replica = &replicas[(pair + side) % 3];
            let (path, etag, key) = (path.clone(), etag.clone(), app.admin_key.clone());
            async move {
                replica
                    .send(
                        "PATCH",
                        &path,
                        Some(&body),
                        Some(&key),
                        &[("If-Match", &etag)],
                    )
                    .await
            }
        });
        let (first, second) = tokio::join!(first, second);
        let mut got = [first.status, second.status];
        got.sort();
        assert_eq!(got, [200, 412], "pair {pair}: {first:?} {second:?}");
    }
    let sql = format!(
        "SELECT version::bigint AS n FROM patients WHERE id = '{}'",
        c.patient
    );
    assert_eq!(
        number(&app.db.url, &sql).await,
        101,
        "exactly one change per pair"
    );
    println!("replicas: 100 pairs of PATCH with one ETag -> 100 x (200, 412)");
}

#[actix_web::test]
async fn a_key_revoked_on_one_replica_is_refused_by_the_others_within_a_second() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let replicas = replicas(&app.db.url, 3).await;
    let desk = app
        .key(prolo_scheduler::domain::access::Role::Staff, None)
        .await;
    let auth = format!("Bearer {desk}");
    let headers = [("Authorization", auth.as_str())];
    // Each replica checks the key (and keeps it) on a few requests first.
    for replica in &replicas {
        for _ in 0..3 {
            assert_eq!(
                request(replica.addr, "GET", "/v1/me", None, &headers)
                    .await
                    .status,
                200
            );
        }
    }
    let id = request(replicas[0].addr, "GET", "/v1/me", None, &headers)
        .await
        .body["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = format!("Bearer {}", app.admin_key);
    let path = format!("/v1/api-keys/{id}");
    let as_admin = [("Authorization", admin.as_str())];
    let revoked = request(replicas[0].addr, "DELETE", &path, None, &as_admin).await;
    assert_eq!(revoked.status, 204);
    let since = std::time::Instant::now();
    assert_eq!(
        request(replicas[0].addr, "GET", "/v1/me", None, &headers)
            .await
            .status,
        401
    );
    let mut slowest = std::time::Duration::ZERO;
    for replica in &replicas[1..] {
        loop {
            match request(replica.addr, "GET", "/v1/me", None, &headers)
                .await
                .status
            {
                401 => break,
                200 => assert!(
                    since.elapsed() < std::time::Duration::from_secs(1),
                    "still accepted a second after the revocation"
                ),
                other => panic!("unexpected {other}"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        slowest = slowest.max(since.elapsed());
    }
    println!(
        "replicas: a revoked key is refused by every replica {:.1} ms after the revocation",
        slowest.as_secs_f64() * 1000.0
    );
}
