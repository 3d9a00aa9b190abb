//! Manage links: what they show, cancel and move; the late-change window; a guess looks like
//! an expired link. And the races of online booking, over real concurrent connections.

use actix_web::http::Method;
use chrono::Duration;
use prolo_scheduler::config::RateLimits;
use prolo_scheduler::http::client::TrustedProxies;
use serde_json::{Value, json};

use crate::online_bookings::{app_with_mail, code_for, request, verify};
use crate::online_holds::{VISITOR, hold, slot};
use crate::support::TestApp;
use crate::support::clinic::{Clinic, clinic};
use crate::support::http::{Server, WireReply, request as wire};
use crate::support::smtp::{round, worker};

/// Books `starts_at` online; the session's id and its link's token.
async fn booked(
    app: &TestApp,
    smtp: &crate::support::smtp::SmtpServer,
    c: &Clinic,
    starts_at: &str,
) -> (String, String) {
    let id = request(app, c, starts_at, "sam@example.com").await;
    let verified = verify(app, &id, &code_for(smtp, "sam@example.com"))
        .await
        .expect(201)
        .body;
    let token = token_of(&verified["manage_url"]);
    (
        verified["session"]["id"].as_str().unwrap().to_owned(),
        token,
    )
}

fn token_of(url: &Value) -> String {
    url.as_str()
        .unwrap()
        .rsplit_once("#manage=")
        .unwrap()
        .1
        .to_owned()
}

async fn manage(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::support::Reply {
    app.send_from(VISITOR, method, &format!("/v1/manage/{path}"), body)
        .await
}

#[actix_web::test]
async fn a_manage_link_shows_the_session_and_cancels_it() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"phone": "+1 303 555 0100"}))
        .await
        .expect(200);
    let (session_id, token) = booked(&app, &smtp, &c, "2027-01-07T10:00:00-07:00").await;
    let shown = manage(&app, Method::GET, &token, None).await.expect(200);
    assert_eq!(shown.header("cache-control"), Some("no-store"));
    let shown = shown.body;
    assert_eq!(shown["id"], session_id.as_str());
    assert_eq!(shown["status"], "scheduled");
    assert_eq!(shown["starts_at"], "2027-01-07T10:00:00-07:00");
    assert_eq!(shown["location"]["name"], "Denver");
    assert!(shown["provider"]["name"].is_string());
    assert_eq!(
        (
            shown["can_cancel"].as_bool(),
            shown["can_reschedule"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(shown["change_until"], "2027-01-06T10:00:00-07:00");
    // Reading changed nothing; a clinic's reason is not the patient's to give.
    let cancel = |reason: &str| json!({"reason_code": reason});
    let refused = manage(
        &app,
        Method::POST,
        &format!("{token}/cancel"),
        Some(cancel("clinic_closure")),
    )
    .await;
    assert_eq!(refused.broken_rules(), ["reason_code"]);
    let cancelled = manage(
        &app,
        Method::POST,
        &format!("{token}/cancel"),
        Some(cancel("feeling_better")),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(cancelled["status"], "cancelled");
    let session = app
        .get(&format!("/v1/sessions/{session_id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        (
            session["status"].as_str(),
            session["cancel_reason"].as_str()
        ),
        (Some("cancelled"), Some("feeling_better"))
    );
    // The link died with the session, and it now answers exactly as a guess does.
    let dead = manage(&app, Method::GET, &token, None)
        .await
        .problem(404, "not-found");
    let guessed = manage(&app, Method::GET, &"ab".repeat(32), None)
        .await
        .problem(404, "not-found");
    let malformed = manage(&app, Method::GET, "not-a-token", None)
        .await
        .problem(404, "not-found");
    let without_instance = |mut v: Value| {
        v.as_object_mut().unwrap().remove("instance");
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    assert_eq!(without_instance(dead.clone()), without_instance(guessed));
    assert_eq!(without_instance(dead), without_instance(malformed));
}

#[actix_web::test]
async fn a_manage_link_moves_the_session_to_a_held_slot_and_is_replaced() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let (session_id, token) = booked(&app, &smtp, &c, "2027-01-07T10:00:00-07:00").await;
    let held = hold(&app, VISITOR, &c, "2027-01-08T14:00:00-07:00").await;
    let body = json!({"hold_id": held["id"], "hold_token": held["token"]});
    let moved = manage(
        &app,
        Method::POST,
        &format!("{token}/reschedule"),
        Some(body.clone()),
    )
    .await
    .expect(200)
    .body;
    assert_eq!(moved["session"]["id"], session_id.as_str());
    assert_eq!(moved["session"]["starts_at"], "2027-01-08T14:00:00-07:00");
    let new_token = token_of(&moved["manage_url"]);
    assert_ne!(new_token, token);
    manage(&app, Method::GET, &token, None)
        .await
        .problem(404, "not-found");
    manage(&app, Method::GET, &new_token, None)
        .await
        .expect(200);
    let history = app
        .get(&format!("/v1/sessions/{session_id}/history"))
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["booked", "rescheduled"]);
    // The hold was used by the move: it cannot move the session again.
    manage(
        &app,
        Method::POST,
        &format!("{new_token}/reschedule"),
        Some(body),
    )
    .await
    .problem(409, "hold-expired");
    // A hold with another kind of place is refused, naming it.
    let other = app.location("Boulder", "America/Denver").await;
    let mut elsewhere = slot(&c, "2027-01-11T09:00:00-07:00");
    elsewhere["location_id"] = json!(other);
    let refused = app
        .send_from(VISITOR, Method::POST, "/v1/holds", Some(elsewhere))
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{:#}", refused.body);
}

#[actix_web::test]
async fn inside_the_late_change_window_the_link_sends_the_patient_to_the_phone() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"phone": "+1 303 555 0100"}))
        .await
        .expect(200);
    let (_, token) = booked(&app, &smtp, &c, "2027-01-05T16:00:00-07:00").await;
    // 24 hours before 16:00 Tuesday is 16:00 Monday; it is 08:00 Monday, then 16:00.
    let held = hold(&app, "203.0.113.9", &c, "2027-01-07T09:00:00-07:00").await;
    app.clock.set("2027-01-04T23:00:00Z".parse().unwrap());
    let shown = manage(&app, Method::GET, &token, None)
        .await
        .expect(200)
        .body;
    assert_eq!(shown["can_cancel"], false);
    let late = manage(
        &app,
        Method::POST,
        &format!("{token}/cancel"),
        Some(json!({"reason_code": "illness"})),
    )
    .await
    .problem(422, "too-late-to-change");
    assert!(
        late["detail"].as_str().unwrap().contains("+1 303 555 0100"),
        "{late}"
    );
    let body = json!({"hold_id": held["id"], "hold_token": held["token"]});
    manage(
        &app,
        Method::POST,
        &format!("{token}/reschedule"),
        Some(body),
    )
    .await
    .problem(422, "too-late-to-change");
    // Once the session has ended, the link is dead.
    app.clock.set(app.now() + Duration::days(2));
    manage(&app, Method::GET, &token, None)
        .await
        .problem(404, "not-found");
}

/// The manage link's token in a message's text.
fn mailed_token(text: &str) -> String {
    let (_, after) = text.split_once("/book#manage=").expect("a manage link");
    after.split_whitespace().next().unwrap().to_owned()
}

#[actix_web::test]
async fn the_messages_of_a_session_booked_online_carry_a_link_that_a_move_renews() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let (session_id, page_token) = booked(&app, &smtp, &c, "2027-01-07T10:00:00-07:00").await;
    // A session the front desk booked gets no link: it was never managed online.
    app.post(
        "/v1/sessions",
        c.booking("assessment", "2027-01-08T10:00:00-07:00"),
    )
    .await
    .expect(201);
    let dir = std::env::temp_dir().join(format!("prolo-manage-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let deliver = worker(&app, Some(&smtp.url()), &dir);
    round(&deliver).await;
    let mail = smtp.received();
    let confirmations: Vec<_> = mail
        .iter()
        .filter(|m| m.subject().starts_with("Booked:"))
        .collect();
    assert_eq!(confirmations.len(), 2);
    let (online, by_staff): (Vec<_>, Vec<_>) = confirmations
        .into_iter()
        .partition(|m| m.text().contains("#manage="));
    assert_eq!((online.len(), by_staff.len()), (1, 1));
    assert!(!by_staff[0].html().contains("#manage="));
    let mailed = mailed_token(&online[0].text());
    assert_ne!(mailed, page_token, "each message brings a link of its own");
    assert!(
        online[0].html().contains(&mailed),
        "the HTML part links it too"
    );
    for token in [&page_token, &mailed] {
        manage(&app, Method::GET, token, None).await.expect(200);
    }

    // The front desk moves it: every old link dies; the message of the move brings a new one.
    app.post(
        &format!("/v1/sessions/{session_id}/reschedule"),
        json!({"starts_at": "2027-01-11T13:00:00-07:00"}),
    )
    .await
    .expect(200);
    for token in [&page_token, &mailed] {
        manage(&app, Method::GET, token, None)
            .await
            .problem(404, "not-found");
    }
    round(&deliver).await;
    let moved = smtp.received().into_iter().next_back().unwrap();
    assert!(moved.subject().starts_with("Moved:"), "{}", moved.subject());
    let renewed = mailed_token(&moved.text());
    let shown = manage(&app, Method::GET, &renewed, None)
        .await
        .expect(200)
        .body;
    assert_eq!(shown["starts_at"], "2027-01-11T13:00:00-07:00");
}

fn count(replies: &[WireReply], status: u16) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

/// A server that believes the forwarding headers of 127.0.0.1, so each racer is its own client.
async fn server(app: &TestApp) -> Server {
    let proxies = TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]);
    Server::start_with(&app.db.url, app.clock.clone(), |state| {
        state.with_trusted_proxies(proxies)
    })
    .await
}

#[actix_web::test]
async fn fifty_concurrent_holds_of_one_slot_give_exactly_one_hold() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let server = server(&app).await;
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let (addr, body) = (
                server.addr,
                slot(&c, &format!("2027-01-05T10:{:02}:00-07:00", (n % 3) * 15)),
            );
            actix_web::rt::spawn(async move {
                let client = format!("198.51.100.{}", n + 1);
                wire(
                    addr,
                    "POST",
                    "/v1/holds",
                    Some(&body),
                    &[("X-Forwarded-For", &client)],
                )
                .await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    assert_eq!(
        count(&replies, 201),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(count(&replies, 409), 49);
}

#[actix_web::test]
async fn a_hold_and_a_staff_booking_racing_for_one_slot_have_one_winner() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let server = server(&app).await;
    let auth = format!("Bearer {}", app.admin_key);
    for hour in 8..16 {
        let start = format!("2027-01-06T{hour:02}:00:00-07:00");
        let (hold_body, staff_body) = (slot(&c, &start), c.booking("assessment", &start));
        let addr = server.addr;
        let holder = actix_web::rt::spawn(async move {
            wire(
                addr,
                "POST",
                "/v1/holds",
                Some(&hold_body),
                &[("X-Forwarded-For", "198.51.100.1")],
            )
            .await
        });
        let auth = auth.clone();
        let staff = actix_web::rt::spawn(async move {
            wire(
                addr,
                "POST",
                "/v1/sessions",
                Some(&staff_body),
                &[("Authorization", &auth)],
            )
            .await
        });
        let (held, booked) = (holder.await.unwrap(), staff.await.unwrap());
        let statuses = [held.status, booked.status];
        assert!(
            statuses == [201, 409] || statuses == [409, 201],
            "{start}: {statuses:?}"
        );
        // Release the client's live holds for the next round.
        app.clock.set(app.now() + Duration::minutes(10));
    }
}
