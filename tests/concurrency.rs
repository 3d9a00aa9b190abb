//! Races through the real HTTP server: the database's constraints decide, not the timing.

use serde_json::json;

use crate::sessions::{clinic, new_patient};
use crate::support::TestApp;
use crate::support::http::{Server, WireReply, request};

async fn race(
    server: &Server,
    key: &str,
    bodies: Vec<serde_json::Value>,
    idempotency: Option<&str>,
) -> Vec<WireReply> {
    let auth = format!("Bearer {key}");
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (addr, auth) = (server.addr, auth.clone());
            let idempotency = idempotency.map(str::to_owned);
            actix_web::rt::spawn(async move {
                let mut headers = vec![("Authorization", auth.as_str())];
                if let Some(key) = &idempotency {
                    headers.push(("Idempotency-Key", key.as_str()));
                }
                request(addr, "POST", "/v1/sessions", Some(&body), &headers).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

fn count(replies: &[WireReply], status: u16) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

#[actix_web::test]
async fn fifty_overlapping_bookings_of_one_provider_yield_exactly_one_session() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let mut bodies = Vec::new();
    for n in 0..50 {
        let patient = new_patient(&app, &format!("p{n}@example.com")).await;
        // Starts 10:00–10:24, every one overlapping the others (30 min + 10 min buffer).
        let mut body = c.booking(
            "injection",
            &format!("2027-01-05T10:{:02}:00-07:00", (n % 5) * 6),
        );
        body["patient_id"] = json!(patient);
        bodies.push(body);
    }
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let replies = race(&server, &app.admin_key, bodies, None).await;
    assert_eq!(
        count(&replies, 201),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(count(&replies, 409), 49);
    assert!(
        replies
            .iter()
            .filter(|r| r.status == 409)
            .all(|r| r.body["type"] == "/problems/slot-taken")
    );
    let sessions = app.get("/v1/sessions").await.expect(200);
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn one_patient_racing_across_two_providers_gets_one_session() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let second = app.provider(&[&c.area], &[&c.location]).await;
    let intervals = json!({"intervals": [{"location_id": c.location, "weekday": "tuesday", "start": "08:00", "end": "17:00"}]});
    app.put(&format!("/v1/providers/{second}/working-hours"), intervals)
        .await
        .expect(200);
    let bodies = (0..50)
        .map(|n| {
            let mut body = c.booking(
                "assessment",
                &format!("2027-01-05T10:{:02}:00-07:00", (n % 10) * 3),
            );
            if n % 2 == 1 {
                body["provider_id"] = json!(second);
            }
            body
        })
        .collect();
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let replies = race(&server, &app.admin_key, bodies, None).await;
    assert_eq!(count(&replies, 201), 1);
    let others: Vec<_> = replies
        .iter()
        .filter(|r| r.status != 201 && r.status != 409)
        .collect();
    assert!(others.is_empty(), "no other outcome, no 5xx: {others:#?}");
    let sessions = app
        .get(&format!("/v1/sessions?patient_id={}", c.patient))
        .await
        .expect(200);
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn twenty_retries_with_one_idempotency_key_make_one_booking_and_identical_answers() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let body = c.booking("injection", "2027-01-05T10:00:00-07:00");
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let replies = race(&server, &app.admin_key, vec![body; 20], Some("retry-me")).await;
    assert_eq!(
        count(&replies, 201),
        20,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies.iter().all(|r| r.body == replies[0].body));
    assert!(
        replies
            .iter()
            .all(|r| r.header("location") == replies[0].header("location"))
    );
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.header("idempotent-replayed").is_some())
            .count(),
        19
    );
    let sessions = app.get("/v1/sessions").await.expect(200);
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 1);
}
