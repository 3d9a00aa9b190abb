//! The waitlist, end to end against real PostgreSQL and a real SMTP server: a cancellation
//! becomes offers to the first in line (and to nobody whose rules do not fit), the first
//! acceptance books the time, a course session moves inside its window, offers and entries
//! expire, and two replicas offer and mail each time once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prolo_scheduler::config::RateLimits;
use prolo_scheduler::worker::waitlist::{Round, WaitlistWorker};
use serde_json::{Value, json};

use crate::online_bookings::app_with_mail;
use crate::support::clinic::{Clinic, clinic, new_patient};
use crate::support::http::{Server, request as wire};
use crate::support::smtp::{SmtpServer, round, worker};
use crate::support::{TEST_NOW, TestApp};

/// The waitlist worker over the app's database and clock.
pub fn waitlist_worker(app: &TestApp) -> WaitlistWorker {
    let options = prolo_scheduler::config::PoolOptions {
        max_size: 4,
        timeout: Duration::from_secs(5),
    };
    WaitlistWorker {
        pool: prolo_scheduler::db::pool(&app.db.url, options).unwrap(),
        clock: app.clock.clone() as Arc<dyn prolo_scheduler::clock::Clock>,
    }
}

async fn offer_round(worker: &WaitlistWorker) -> Round {
    worker.round().await.expect("the waitlist round succeeds")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// `TEST_NOW` plus `minutes`.
fn minutes_after_start(minutes: i64) -> DateTime<Utc> {
    at(TEST_NOW) + chrono::Duration::minutes(minutes)
}

/// Puts `patient` on the list for a knee injection, with `wishes` added; the entry.
async fn join(app: &TestApp, c: &Clinic, patient: &str, wishes: Value) -> Value {
    let mut body = json!({"patient_id": patient, "treatment_area_id": c.area, "kind": "injection"});
    for (key, value) in wishes.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.post("/v1/waitlist", body).await.expect(201).body
}

async fn cancel_session(app: &TestApp, id: &str) {
    app.post(
        &format!("/v1/sessions/{id}/cancel"),
        json!({"reason_code": "patient_request"}),
    )
    .await
    .expect(200);
}

async fn book(app: &TestApp, body: Value) -> String {
    app.post("/v1/sessions", body).await.expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The waitlist offers mailed to `email`.
fn offers_to(smtp: &SmtpServer, email: &str) -> Vec<crate::support::smtp::Received> {
    smtp.received()
        .into_iter()
        .filter(|m| m.rcpt_tos.iter().any(|r| r == email))
        .filter(|m| m.subject().starts_with("An earlier"))
        .collect()
}

/// The token of the last offer mailed to `email`.
fn offer_token(smtp: &SmtpServer, email: &str) -> String {
    let message = offers_to(smtp, email).pop().expect("an offer by email");
    let text = message.text();
    let (_, after) = text.split_once("/book#offer=").expect("an offer link");
    after.split_whitespace().next().unwrap().to_owned()
}

async fn accept(app: &TestApp, token: &str, body: Value) -> crate::support::Reply {
    app.send_from(
        crate::online_holds::VISITOR,
        actix_web::http::Method::POST,
        &format!("/v1/waitlist/offers/{token}/accept"),
        Some(body),
    )
    .await
}

async fn entry(app: &TestApp, id: &Value) -> Value {
    app.get(&format!("/v1/waitlist/{}", id.as_str().unwrap()))
        .await
        .expect(200)
        .body
}

fn actions(entry: &Value) -> Vec<&str> {
    entry["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_cancellation_is_offered_to_the_first_in_line_by_email_and_the_first_to_accept_books_it()
{
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"waitlist_offer_count": 2}))
        .await
        .expect(200);
    let other = app.provider(&[&c.area], &[&c.location]).await;
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    app.weekly_hours(&other, &c.location, &days, ("08:00", "17:00"))
        .await;
    // The knee injection on Tuesday at 09:00 that will be cancelled.
    let tuesday = "2027-01-05T09:00:00-07:00";
    let taken = book(&app, c.booking("injection", tuesday)).await;
    let mut entries = std::collections::HashMap::new();
    for (email, wishes, minute) in [
        ("old@example.com", json!({}), 0),
        ("thursdays@example.com", json!({"weekdays": ["thursday"]}), 1),
        (
            "afternoons@example.com",
            json!({"time_window": {"start": "13:00", "end": "17:00"}}),
            1,
        ),
        (
            "until-monday@example.com",
            json!({"latest": "2027-01-05T00:00:00-07:00"}),
            1,
        ),
        ("other-provider@example.com", json!({"provider_id": other}), 1),
        ("busy@example.com", json!({}), 2),
        ("third@example.com", json!({}), 5),
        ("urgent@example.com", json!({"urgent": true}), 10),
    ] {
        app.clock.set(minutes_after_start(minute));
        let patient = new_patient(&app, email).await;
        if email == "busy@example.com" {
            // Already booked with the other provider at that time.
            let mut elsewhere = c.booking("injection", tuesday);
            elsewhere["patient_id"] = json!(patient);
            elsewhere["provider_id"] = json!(other);
            book(&app, elsewhere).await;
        }
        entries.insert(email, join(&app, &c, &patient, wishes).await);
    }
    let waitlist = waitlist_worker(&app);
    let mail = worker(&app, Some(&smtp.url()), &std::env::temp_dir());

    app.clock.set(minutes_after_start(20));
    cancel_session(&app, &taken).await;
    let first = offer_round(&waitlist).await;
    assert!(first.events > 0);
    assert_eq!(first.offered.offers, 0, "the freed time settles for two minutes first");
    app.clock.set(minutes_after_start(22));
    assert_eq!(offer_round(&waitlist).await.offered.offers, 2);
    assert_eq!(offer_round(&waitlist).await.offered.offers, 0, "offered once");
    round(&mail).await;

    // Urgent first, then the longest waiting; nobody whose rules or calendar do not fit.
    for email in ["urgent@example.com", "old@example.com"] {
        let offers = offers_to(&smtp, email);
        assert_eq!(offers.len(), 1, "{email}");
        let message = &offers[0];
        assert_eq!(
            message.subject(),
            "An earlier injection time is free: Tuesday 5 January 2027, 09:00 (America/Denver, MST)"
        );
        assert!(message.text().contains("until 08:52 on Monday 4 January"), "{}", message.text());
    }
    for email in [
        "thursdays@example.com",
        "afternoons@example.com",
        "until-monday@example.com",
        "other-provider@example.com",
        "busy@example.com",
        "third@example.com",
    ] {
        assert!(offers_to(&smtp, email).is_empty(), "{email} got an offer");
    }

    // The link shows the time and changes nothing.
    let old_token = offer_token(&smtp, "old@example.com");
    let shown = app
        .get(&format!("/v1/waitlist/offers/{old_token}"))
        .await
        .expect(200);
    assert_eq!(shown.body["status"], "open");
    assert_eq!(shown.body["starts_at"], tuesday);
    assert_eq!(shown.body["ends_at"], "2027-01-05T09:30:00-07:00");
    assert_eq!(shown.body["moves_session_from"], Value::Null);
    assert_eq!(shown.body["cascade_required"], false);
    assert_eq!(shown.header("cache-control"), Some("no-store"));

    // The first acceptance books the time; the other answers 409 and keeps waiting.
    let accepted = accept(&app, &old_token, json!(null)).await.expect(200);
    assert_eq!(accepted.body["session"]["starts_at"], tuesday);
    assert!(
        accepted.body["manage_url"]
            .as_str()
            .unwrap()
            .contains("/book#manage=")
    );
    let session_id = accepted.body["session"]["id"].as_str().unwrap().to_owned();
    let urgent_token = offer_token(&smtp, "urgent@example.com");
    let taken = accept(&app, &urgent_token, json!({})).await.problem(409, "offer-taken");
    assert!(taken["detail"].as_str().unwrap().contains("stays on the waitlist"));
    accept(&app, &old_token, json!({})).await.problem(409, "offer-taken");

    let session = app
        .get(&format!("/v1/sessions/{session_id}"))
        .await
        .expect(200)
        .body;
    let old = entry(&app, &entries["old@example.com"]["id"]).await;
    assert_eq!(session["patient_id"], old["patient_id"]);
    assert_eq!(session["provider_id"], json!(c.provider));
    assert_eq!(old["status"], "booked");
    assert_eq!(old["booked_session_id"], json!(session_id));
    assert_eq!(actions(&old), ["joined", "offered", "accepted", "booked"]);
    assert_eq!(old["offers"][0]["status"], "accepted");
    let urgent = entry(&app, &entries["urgent@example.com"]["id"]).await;
    assert_eq!(urgent["status"], "waiting");
    assert_eq!(urgent["offers"][0]["status"], "taken");
    assert_eq!(actions(&urgent), ["joined", "offered", "offer_taken"]);

    // The log tells integrators, with nothing personal in it.
    let events = app.get("/v1/events?types=waitlist_offer.created,waitlist_offer.accepted,waitlist_offer.closed,waitlist_entry.created&limit=100").await.expect(200);
    let types: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.iter().filter(|t| **t == "waitlist_entry.created").count(), 8);
    assert_eq!(types.iter().filter(|t| **t == "waitlist_offer.created").count(), 2);
    assert_eq!(types.iter().filter(|t| **t == "waitlist_offer.accepted").count(), 1);
    assert_eq!(types.iter().filter(|t| **t == "waitlist_offer.closed").count(), 1);
    let text = events.body.to_string();
    assert!(!text.contains("example.com") && !text.contains("Jordan"));
}

#[actix_web::test]
async fn two_acceptances_racing_give_one_booking() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"waitlist_debounce_minutes": 0}))
        .await
        .expect(200);
    let waitlist = waitlist_worker(&app);
    let mail = worker(&app, Some(&smtp.url()), &std::env::temp_dir());
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    for (round_number, starts_at) in ["2027-01-05T09:00:00-07:00", "2027-01-06T10:00:00-07:00"]
        .iter()
        .enumerate()
    {
        let taken = book(&app, c.booking("injection", starts_at)).await;
        let emails = [
            format!("first{round_number}@example.com"),
            format!("second{round_number}@example.com"),
        ];
        let mut ids = Vec::new();
        for email in &emails {
            let patient = new_patient(&app, email).await;
            ids.push(join(&app, &c, &patient, json!({}))
                .await["id"]
                .clone());
        }
        cancel_session(&app, &taken).await;
        assert_eq!(offer_round(&waitlist).await.offered.offers, 2);
        round(&mail).await;
        let paths: Vec<String> = emails
            .iter()
            .map(|email| format!("/v1/waitlist/offers/{}/accept", offer_token(&smtp, email)))
            .collect();
        let (a, b) = tokio::join!(
            wire(server.addr, "POST", &paths[0], None, &[]),
            wire(server.addr, "POST", &paths[1], None, &[]),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{:?} {:?}", a.body, b.body);
        let loser = if a.status == 409 { &a } else { &b };
        assert_eq!(loser.body["type"], "/problems/offer-taken");
        let mut booked = 0;
        for id in &ids {
            match entry(&app, id).await["status"].as_str().unwrap() {
                "booked" => booked += 1,
                // The loser keeps waiting; off the list before the next round.
                _ => {
                    let path = format!("/v1/waitlist/{}/cancel", id.as_str().unwrap());
                    app.post(&path, json!(null)).await.expect(200);
                }
            }
        }
        assert_eq!(booked, 1);
        let day = &starts_at[..10];
        let sessions = app
            .get(&format!(
                "/v1/sessions?provider_id={}&from={day}T00:00:00-07:00&to={day}T23:59:00-07:00",
                c.provider
            ))
            .await
            .expect(200)
            .body;
        let live: Vec<&Value> = sessions["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "scheduled")
            .collect();
        assert_eq!(live.len(), 1, "one booking of the time: {sessions:#}");
    }
}
