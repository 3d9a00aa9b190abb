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
pub fn minutes_after_start(minutes: i64) -> DateTime<Utc> {
    at(TEST_NOW) + chrono::Duration::minutes(minutes)
}

/// Puts `patient` on the list for a knee injection, with `wishes` added; the entry.
pub async fn join(app: &TestApp, c: &Clinic, patient: &str, wishes: Value) -> Value {
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

pub async fn book(app: &TestApp, body: Value) -> String {
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

pub async fn entry(app: &TestApp, id: &Value) -> Value {
    app.get(&format!("/v1/waitlist/{}", id.as_str().unwrap()))
        .await
        .expect(200)
        .body
}

pub fn actions(entry: &Value) -> Vec<&str> {
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
        (
            "thursdays@example.com",
            json!({"weekdays": ["thursday"]}),
            1,
        ),
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
        (
            "other-provider@example.com",
            json!({"provider_id": other}),
            1,
        ),
        ("busy@example.com", json!({}), 2),
        ("opted-out@example.com", json!({}), 3),
        ("third@example.com", json!({}), 5),
        ("urgent@example.com", json!({"urgent": true}), 10),
    ] {
        app.clock.set(minutes_after_start(minute));
        let patient = new_patient(&app, email).await;
        if email == "opted-out@example.com" {
            // Offers go by email: one this patient turned off would hold the time for nothing.
            let path = format!("/v1/patients/{patient}");
            app.patch(&path, "*", json!({"email_notifications": false}))
                .await
                .expect(200);
        }
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
    assert_eq!(
        first.offered.offers, 0,
        "the freed time settles for two minutes first"
    );
    app.clock.set(minutes_after_start(22));
    assert_eq!(offer_round(&waitlist).await.offered.offers, 2);
    assert_eq!(
        offer_round(&waitlist).await.offered.offers,
        0,
        "offered once"
    );
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
        assert!(
            message.text().contains("until 08:52 on Monday 4 January"),
            "{}",
            message.text()
        );
    }
    for email in [
        "thursdays@example.com",
        "afternoons@example.com",
        "until-monday@example.com",
        "other-provider@example.com",
        "busy@example.com",
        "opted-out@example.com",
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
    let taken = accept(&app, &urgent_token, json!({}))
        .await
        .problem(409, "offer-taken");
    assert!(
        taken["detail"]
            .as_str()
            .unwrap()
            .contains("stays on the waitlist")
    );
    accept(&app, &old_token, json!({}))
        .await
        .problem(409, "offer-taken");

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
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "waitlist_entry.created")
            .count(),
        9
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "waitlist_offer.created")
            .count(),
        2
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "waitlist_offer.accepted")
            .count(),
        1
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "waitlist_offer.closed")
            .count(),
        1
    );
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
            ids.push(join(&app, &c, &patient, json!({})).await["id"].clone());
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

/// A course of three knee injections on Tuesdays at 09:00 Denver, 21 days apart (window 14
/// to 21 days): 5 January, 26 January, 16 February. Its sessions' ids.
async fn course(app: &TestApp, c: &Clinic) -> Vec<String> {
    let body = json!({"patient_id": c.patient, "treatment_area_id": c.area, "location_id": c.location,
        "sessions": 3, "interval_days": {"min": 14, "target": 21, "max": 21}, "side": "left",
        "first_starts_at": "2027-01-05T09:00:00-07:00", "book": true});
    let created = app.post("/v1/courses", body).await.expect(201).body;
    let sessions = created["sessions"].as_array().unwrap();
    let starts: Vec<&str> = sessions
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-01-05T09:00:00-07:00",
            "2027-01-26T09:00:00-07:00",
            "2027-02-16T09:00:00-07:00"
        ]
    );
    sessions
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_offer_moving_a_course_session_keeps_its_window_and_cascades_when_asked() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"waitlist_debounce_minutes": 0}))
        .await
        .expect(200);
    let sessions = course(&app, &c).await;
    // The patient wants the second injection earlier.
    let wanted = join(&app, &c, &c.patient, json!({"session_id": sessions[1]})).await;
    assert_eq!(wanted["provider_id"], json!(c.provider));
    assert_eq!(wanted["location_id"], json!(c.location));
    // Someone else's injections a week and two weeks after the first one, both cancelled.
    let other = new_patient(&app, "other@example.com").await;
    let mut ids = Vec::new();
    for starts_at in ["2027-01-12T09:00:00-07:00", "2027-01-19T09:00:00-07:00"] {
        let mut body = c.booking("injection", starts_at);
        body["patient_id"] = json!(other);
        ids.push(book(&app, body).await);
    }
    let waitlist = waitlist_worker(&app);
    let mail = worker(&app, Some(&smtp.url()), &std::env::temp_dir());
    // A week after the first injection is too soon: nothing is offered.
    cancel_session(&app, &ids[0]).await;
    assert_eq!(offer_round(&waitlist).await.offered.offers, 0);
    // Two weeks after is inside the window, and leaves the third 28 days later.
    cancel_session(&app, &ids[1]).await;
    assert_eq!(offer_round(&waitlist).await.offered.offers, 1);
    round(&mail).await;
    let token = offer_token(&smtp, "jordan@example.com");
    let message = offers_to(&smtp, "jordan@example.com").pop().unwrap();
    assert!(
        message
            .text()
            .contains("your appointment is now on Tuesday 26 January 2027, 09:00"),
        "{}",
        message.text()
    );
    let shown = app
        .get(&format!("/v1/waitlist/offers/{token}"))
        .await
        .expect(200)
        .body;
    assert_eq!(shown["starts_at"], "2027-01-19T09:00:00-07:00");
    assert_eq!(shown["moves_session_from"], "2027-01-26T09:00:00-07:00");
    assert_eq!(shown["cascade_required"], true);

    // Without the cascade the third injection would fall out of its window: refused, and
    // nothing changes.
    accept(&app, &token, json!({}))
        .await
        .problem(422, "course-window-broken");
    assert_eq!(entry(&app, &wanted["id"]).await["status"], "waiting");
    let accepted = accept(&app, &token, json!({"cascade": true}))
        .await
        .expect(200)
        .body;
    assert_eq!(accepted["session"]["id"], json!(sessions[1]));
    assert_eq!(
        accepted["session"]["starts_at"],
        "2027-01-19T09:00:00-07:00"
    );
    let third = app
        .get(&format!("/v1/sessions/{}", sessions[2]))
        .await
        .expect(200)
        .body;
    let third_start: DateTime<Utc> = third["starts_at"].as_str().unwrap().parse().unwrap();
    let days = (third_start - at("2027-01-19T16:00:00Z")).num_days();
    assert!(
        (14..=21).contains(&days),
        "the third is {days} days after the second"
    );
    let ended = entry(&app, &wanted["id"]).await;
    assert_eq!(ended["status"], "booked");
    assert_eq!(ended["booked_session_id"], json!(sessions[1]));
    // The time the second injection left is free for the next in line.
    let next = new_patient(&app, "next@example.com").await;
    join(&app, &c, &next, json!({})).await;
    assert!(offer_round(&waitlist).await.offered.offers >= 1);
    round(&mail).await;
    let offered = offers_to(&smtp, "next@example.com");
    assert_eq!(offered.len(), 1);
    assert!(
        offered[0]
            .subject()
            .contains("Tuesday 26 January 2027, 09:00"),
        "{}",
        offered[0].subject()
    );
}

#[actix_web::test]
async fn expired_offers_and_entries_do_nothing_and_the_time_goes_to_the_next_in_line() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch(
        "/v1/settings",
        "*",
        json!({"waitlist_debounce_minutes": 0, "waitlist_offer_count": 1, "waitlist_offer_minutes": 5}),
    )
    .await
    .expect(200);
    let waitlist = waitlist_worker(&app);
    let mail = worker(&app, Some(&smtp.url()), &std::env::temp_dir());
    let taken = book(&app, c.booking("injection", "2027-01-05T09:00:00-07:00")).await;
    let first = new_patient(&app, "first@example.com").await;
    let first_entry = join(&app, &c, &first, json!({})).await;
    app.clock.set(minutes_after_start(1));
    let second = new_patient(&app, "second@example.com").await;
    let second_entry = join(&app, &c, &second, json!({})).await;
    // An entry whose last day passes, and one whose session begins.
    let until = join(
        &app,
        &c,
        &c.patient,
        json!({"latest": "2027-01-04T09:00:00-07:00"}),
    )
    .await;
    let soon = book(&app, c.booking("assessment", "2027-01-05T14:00:00-07:00")).await;
    let moving = app
        .post(
            "/v1/waitlist",
            json!({"patient_id": c.patient, "treatment_area_id": c.area, "kind": "assessment", "session_id": soon}),
        )
        .await
        .expect(201)
        .body;

    cancel_session(&app, &taken).await;
    assert_eq!(offer_round(&waitlist).await.offered.offers, 1);
    round(&mail).await;
    let token = offer_token(&smtp, "first@example.com");
    assert!(offers_to(&smtp, "second@example.com").is_empty());

    // Five minutes on, the offer has expired: it books nothing, and the time goes to the next.
    app.clock.set(minutes_after_start(7));
    let swept = offer_round(&waitlist).await;
    assert_eq!(swept.swept.offers_expired, 1);
    assert_eq!(swept.swept.reopened, 1);
    assert_eq!(swept.offered.offers, 1, "offered to the next in line");
    accept(&app, &token, json!({}))
        .await
        .problem(409, "offer-expired");
    let shown = app
        .get(&format!("/v1/waitlist/offers/{token}"))
        .await
        .expect(200);
    assert_eq!(shown.body["status"], "expired");
    let first_now = entry(&app, &first_entry["id"]).await;
    assert_eq!(first_now["status"], "waiting");
    assert_eq!(actions(&first_now), ["joined", "offered", "offer_expired"]);
    round(&mail).await;
    let second_token = offer_token(&smtp, "second@example.com");
    // An offer whose email has gone is not sent again when it lapses unread.
    assert_eq!(offers_to(&smtp, "first@example.com").len(), 1);

    // Past its `latest`, and once its session begins, an entry expires with its offers.
    app.clock.set(at("2027-01-05T21:00:00Z"));
    let swept = offer_round(&waitlist).await;
    assert!(swept.swept.entries_expired >= 2, "{swept:?}");
    for id in [&until["id"], &moving["id"]] {
        let ended = entry(&app, id).await;
        assert_eq!(ended["status"], "expired", "{ended:#}");
        assert_eq!(actions(&ended).last(), Some(&"expired"));
    }
    accept(&app, &second_token, json!({}))
        .await
        .problem(409, "offer-expired");
    let second_now = entry(&app, &second_entry["id"]).await;
    assert_eq!(second_now["offers"][0]["status"], "expired");
    // Staff can no longer change what has ended.
    let path = format!("/v1/waitlist/{}", until["id"].as_str().unwrap());
    app.patch(&path, "*", json!({"urgent": true}))
        .await
        .problem(409, "invalid-transition");
    let events = app
        .get("/v1/events?types=waitlist_offer.expired,waitlist_entry.expired&limit=100")
        .await
        .expect(200)
        .body;
    let count = |kind: &str| {
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .count()
    };
    assert_eq!(count("waitlist_offer.expired"), 2);
    assert!(count("waitlist_entry.expired") >= 2);
}

#[actix_web::test]
async fn two_replicas_offer_and_mail_each_time_once() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch(
        "/v1/settings",
        "*",
        json!({"waitlist_debounce_minutes": 0, "waitlist_offer_count": 1}),
    )
    .await
    .expect(200);
    // Eight freed injections on Tuesday and Wednesday, eight patients waiting.
    let mut taken = Vec::new();
    for day in ["05", "06"] {
        for hour in ["09", "10", "11", "13"] {
            let starts_at = format!("2027-01-{day}T{hour}:00:00-07:00");
            taken.push(book(&app, c.booking("injection", &starts_at)).await);
        }
    }
    for n in 0..8 {
        let patient = new_patient(&app, &format!("waiting{n}@example.com")).await;
        join(&app, &c, &patient, json!({})).await;
    }
    for id in &taken {
        cancel_session(&app, id).await;
    }
    // Two replicas, each with its own pool, its waitlist worker and its mail worker.
    let (one, two) = (waitlist_worker(&app), waitlist_worker(&app));
    let (mail_one, mail_two) = (
        worker(&app, Some(&smtp.url()), &std::env::temp_dir()),
        worker(&app, Some(&smtp.url()), &std::env::temp_dir()),
    );
    let mut offers = 0;
    for _ in 0..4 {
        let (a, b) = tokio::join!(one.round(), two.round());
        offers += a.unwrap().offered.offers + b.unwrap().offered.offers;
        let (a, b) = tokio::join!(mail_one.round(), mail_two.round());
        a.unwrap();
        b.unwrap();
    }
    assert_eq!(offers, 8, "one offer per freed time");
    let mailed: Vec<_> = smtp
        .received()
        .into_iter()
        .filter(|m| m.subject().starts_with("An earlier"))
        .collect();
    assert_eq!(mailed.len(), 8, "each offer mailed once");
    let mut recipients: Vec<String> = mailed.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 8, "one open offer per patient at a time");
}

#[actix_web::test]
async fn a_time_booked_by_someone_else_closes_its_offers() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch(
        "/v1/settings",
        "*",
        json!({"waitlist_debounce_minutes": 0, "waitlist_offer_count": 1}),
    )
    .await
    .expect(200);
    let waitlist = waitlist_worker(&app);
    let mail = worker(&app, Some(&smtp.url()), &std::env::temp_dir());
    let desk = new_patient(&app, "desk@example.com").await;
    for (n, starts_at) in ["2027-01-05T09:00:00-07:00", "2027-01-06T09:00:00-07:00"]
        .iter()
        .enumerate()
    {
        let patient = new_patient(&app, &format!("waiting{n}@example.com")).await;
        let waiting = join(&app, &c, &patient, json!({})).await;
        let taken = book(&app, c.booking("injection", starts_at)).await;
        cancel_session(&app, &taken).await;
        assert_eq!(offer_round(&waitlist).await.offered.offers, 1);
        round(&mail).await;
        let token = offer_token(&smtp, &format!("waiting{n}@example.com"));
        // The front desk books the time for someone who called.
        let mut body = c.booking("injection", starts_at);
        body["patient_id"] = json!(desk);
        book(&app, body).await;
        if n == 0 {
            // Accepted before the worker noticed: the booking is refused, the offers close.
            accept(&app, &token, json!({}))
                .await
                .problem(409, "offer-taken");
        } else {
            // The worker notices first and closes the offer.
            offer_round(&waitlist).await;
            let shown = app
                .get(&format!("/v1/waitlist/offers/{token}"))
                .await
                .expect(200);
            assert_eq!(shown.body["status"], "closed");
            accept(&app, &token, json!({}))
                .await
                .problem(409, "offer-taken");
        }
        let after = entry(&app, &waiting["id"]).await;
        assert_eq!(after["status"], "waiting", "the entry keeps waiting");
        assert_eq!(after["offers"][0]["status"], "closed");
        assert_eq!(actions(&after), ["joined", "offered", "offer_closed"]);
        // Off the list before the next time frees, so the next patient is first in line.
        let path = format!("/v1/waitlist/{}/cancel", waiting["id"].as_str().unwrap());
        app.post(&path, json!(null)).await.expect(200);
    }
}

#[actix_web::test]
async fn a_freed_time_is_offered_only_when_its_rooms_and_devices_are_free() {
    let app = TestApp::new().await;
    let g = crate::resources::guided(&app).await;
    let c = &g.c;
    app.patch("/v1/settings", "*", json!({"waitlist_debounce_minutes": 0}))
        .await
        .expect(200);
    let waitlist = waitlist_worker(&app);
    let waiting = new_patient(&app, "waiting@example.com").await;
    let wanted = join(&app, c, &waiting, json!({})).await;
    let nine = "2027-01-05T09:00:00-07:00";
    let first = book(&app, c.booking("injection", nine)).await;
    cancel_session(&app, &first).await;
    // Before the time is offered, the other provider's injection takes the only ultrasound.
    let other = new_patient(&app, "other@example.com").await;
    let mut body = c.booking("injection", nine);
    body["patient_id"] = json!(other);
    body["provider_id"] = json!(g.second);
    let second = book(&app, body).await;
    assert_eq!(
        offer_round(&waitlist).await.offered.offers,
        0,
        "no ultrasound then"
    );
    // Once that one is cancelled, its time (and the ultrasound) is offered.
    cancel_session(&app, &second).await;
    assert_eq!(offer_round(&waitlist).await.offered.offers, 1);
    let offered = entry(&app, &wanted["id"]).await;
    assert_eq!(offered["offers"][0]["provider_id"], json!(g.second));
    assert_eq!(offered["offers"][0]["starts_at"], "2027-01-05T16:00:00Z");
}
