//! Booking requests and their codes, against a real SMTP server: the code books through the
//! same use case as the front desk; wrong codes, expiry, the honeypot, the flood limit, and a
//! returning patient who is never told they are known.

use actix_web::http::Method;
use chrono::Duration;
use prolo_scheduler::config::RateLimits;
use serde_json::{Value, json};

use crate::online_holds::{VISITOR, hold, tuesday_starts};
use crate::support::clinic::{Clinic, clinic};
use crate::support::smtp::{SmtpServer, round, worker};
use crate::support::{TestApp, TestDatabase};

pub async fn app_with_mail(limits: RateLimits) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::with_mail(TestDatabase::new().await, limits, &smtp.url()).await;
    (app, smtp)
}

pub fn booking(held: &Value, email: &str) -> Value {
    json!({
        "hold_id": held["id"], "hold_token": held["token"],
        "patient": {"given_name": "Sam", "family_name": "Ortiz", "date_of_birth": "1975-09-30",
                    "email": email, "phone": "+1 303 555 0142"},
        "consent": true, "website": ""
    })
}

/// The code in the last message mailed to `email`.
pub fn code_for(smtp: &SmtpServer, email: &str) -> String {
    let message = smtp
        .received()
        .into_iter()
        .rfind(|m| m.rcpt_tos.iter().any(|r| r == email))
        .expect("a message to the visitor");
    let subject = message.subject();
    let code = subject.split_whitespace().next().unwrap().to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{subject}"
    );
    assert!(
        message.text().lines().any(|line| line.trim() == code),
        "{}",
        message.text()
    );
    assert!(message.header("List-Unsubscribe").is_none());
    code
}

/// Holds `starts_at`, requests the booking for `email`: the request's id.
pub async fn request(app: &TestApp, c: &Clinic, starts_at: &str, email: &str) -> String {
    let held = hold(app, VISITOR, c, starts_at).await;
    let requested = app
        .send_from(
            VISITOR,
            Method::POST,
            "/v1/bookings",
            Some(booking(&held, email)),
        )
        .await
        .expect(202)
        .body;
    assert_eq!(requested["status"], "awaiting_verification");
    requested["id"].as_str().unwrap().to_owned()
}

pub async fn verify(app: &TestApp, id: &str, code: &str) -> crate::support::Reply {
    app.send_from(
        VISITOR,
        Method::POST,
        &format!("/v1/bookings/{id}/verify"),
        Some(json!({"code": code})),
    )
    .await
}

/// A code that is not `code`.
pub fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[actix_web::test]
async fn a_visitor_books_with_the_mailed_code_and_the_front_desk_sees_the_session() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let held = hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    let mut body = booking(&held, "sam.ortiz@example.com");
    body["message"] = json!("Left knee, worse on stairs for a year.");
    let requested = app
        .send_from(VISITOR, Method::POST, "/v1/bookings", Some(body))
        .await
        .expect(202)
        .body;
    // The code lives 15 minutes from 08:00 Denver, and the slot is held as long.
    assert_eq!(requested["expires_at"], "2027-01-04T08:15:00-07:00");
    let id = requested["id"].as_str().unwrap();
    let code = code_for(&smtp, "sam.ortiz@example.com");
    app.clock.set(app.now() + Duration::minutes(12));
    assert!(
        !tuesday_starts(&app, &c)
            .await
            .contains(&"2027-01-05T10:00:00-07:00".to_owned())
    );
    let refused = verify(&app, id, &wrong(&code))
        .await
        .problem(422, "wrong-code");
    assert!(refused["detail"].as_str().unwrap().contains("4 tries left"));
    let verified = verify(&app, id, &code).await.expect(201).body;
    let session = &verified["session"];
    assert_eq!(session["status"], "scheduled");
    assert_eq!(session["kind"], "assessment");
    assert_eq!(session["starts_at"], "2027-01-05T10:00:00-07:00");
    let manage_url = verified["manage_url"].as_str().unwrap();
    assert!(
        manage_url.starts_with("http://127.0.0.1:8080/book#manage="),
        "{manage_url}"
    );
    // The front desk finds the session, the new patient, and the message as an inquiry.
    let session_id = session["id"].as_str().unwrap();
    let seen = app
        .get(&format!("/v1/sessions/{session_id}"))
        .await
        .expect(200)
        .body;
    let patient_id = seen["patient_id"].as_str().unwrap();
    let patient = app
        .get(&format!("/v1/patients/{patient_id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        (patient["given_name"].as_str(), patient["email"].as_str()),
        (Some("Sam"), Some("sam.ortiz@example.com"))
    );
    assert_eq!(patient["source"], "online");
    let inquiries = app.get("/v1/inquiries").await.expect(200).body;
    let inquiry = &inquiries["items"][0];
    assert_eq!(inquiry["status"], "scheduled");
    assert_eq!(inquiry["session_id"], session_id);
    assert_eq!(inquiry["patient_id"], patient_id);
    // The code is used up; the confirmation (with its invite) goes out like any booking's.
    verify(&app, id, &code)
        .await
        .problem(409, "booking-request-closed");
    let dir = tempdir();
    let sent = round(&worker(&app, Some(&smtp.url()), &dir)).await;
    assert!(sent.sent >= 1, "{sent:?}");
    let confirmation = smtp.received().into_iter().next_back().unwrap();
    assert!(
        confirmation.subject().starts_with("Booked:"),
        "{}",
        confirmation.subject()
    );
    assert_eq!(confirmation.invites().len(), 1);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("prolo-online-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[actix_web::test]
async fn a_returning_patient_keeps_their_record_and_is_answered_like_anyone() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let known = app
        .post(
            "/v1/patients",
            json!({"given_name": "Sam", "family_name": "Ortiz",
               "date_of_birth": "1975-09-30", "email": "Sam.Ortiz@Example.com"}),
        )
        .await
        .expect(201)
        .body["id"]
        .clone();
    let held = hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    let other = hold(&app, VISITOR, &c, "2027-01-05T13:00:00-07:00").await;
    let returning = app
        .send_from(
            VISITOR,
            Method::POST,
            "/v1/bookings",
            Some(booking(&held, "sam.ortiz@example.com")),
        )
        .await
        .expect(202);
    let stranger = app
        .send_from(
            VISITOR,
            Method::POST,
            "/v1/bookings",
            Some(booking(&other, "new.person@example.com")),
        )
        .await
        .expect(202);
    // The same shape and status: nothing says which visitor the clinic knows.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&returning.body), keys(&stranger.body));
    let id = returning.body["id"].as_str().unwrap();
    let code = code_for(&smtp, "sam.ortiz@example.com");
    let verified = verify(&app, id, &code).await.expect(201).body;
    assert_eq!(verified["session"]["patient_id"], known);
    let patients = app.get("/v1/patients?limit=100").await.expect(200).body;
    let sams = patients["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["family_name"] == "Ortiz")
        .count();
    assert_eq!(sams, 1);
}

#[actix_web::test]
async fn the_fifth_wrong_code_voids_the_request_and_frees_the_slot() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let id = request(&app, &c, "2027-01-05T10:00:00-07:00", "sam@example.com").await;
    let code = code_for(&smtp, "sam@example.com");
    for left in [4, 3, 2, 1] {
        let refused = verify(&app, &id, &wrong(&code))
            .await
            .problem(422, "wrong-code");
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} tries left"))
        );
    }
    let last = verify(&app, &id, &wrong(&code))
        .await
        .problem(422, "wrong-code");
    assert!(last["detail"].as_str().unwrap().contains("void"), "{last}");
    verify(&app, &id, &code)
        .await
        .problem(409, "booking-request-closed");
    assert!(
        tuesday_starts(&app, &c)
            .await
            .contains(&"2027-01-05T10:00:00-07:00".to_owned())
    );
    assert_eq!(verify(&app, &id, "12345").await.invalid_fields(), ["code"]);
}

#[actix_web::test]
async fn a_code_lives_fifteen_minutes() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let id = request(&app, &c, "2027-01-05T10:00:00-07:00", "sam@example.com").await;
    let code = code_for(&smtp, "sam@example.com");
    app.clock.set(app.now() + Duration::minutes(15));
    // The hourly purge voids it; the database's check then holds its details erased.
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    let erase = prolo_scheduler::app::online::requests::erase_lapsed;
    assert_eq!(
        erase(&mut conn, app.now() - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        erase(&mut conn, app.now() + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    verify(&app, &id, &code)
        .await
        .problem(409, "booking-request-closed");
    let unknown = uuid::Uuid::now_v7();
    verify(&app, &unknown.to_string(), &code)
        .await
        .problem(404, "not-found");
}

#[actix_web::test]
async fn a_filled_honeypot_is_answered_like_anyone_and_nothing_is_mailed_or_kept() {
    let (app, smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let held = hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    let mut body = booking(&held, "bot@example.com");
    body["website"] = json!("https://spam.example");
    let answered = app
        .send_from(VISITOR, Method::POST, "/v1/bookings", Some(body))
        .await
        .expect(202)
        .body;
    assert_eq!(answered["status"], "awaiting_verification");
    assert!(smtp.received().is_empty());
    verify(&app, answered["id"].as_str().unwrap(), "000000")
        .await
        .problem(404, "not-found");
}

#[actix_web::test]
async fn a_flood_of_booking_requests_is_cut_by_the_limit_and_mails_nothing_beyond_it() {
    let limits = RateLimits {
        bookings_per_hour: 3,
        ..RateLimits::UNLIMITED
    };
    let (app, smtp) = app_with_mail(limits).await;
    let c = clinic(&app).await;
    let held = hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        let body = booking(&held, &format!("victim{n}@example.com"));
        statuses.push(
            app.send_from(VISITOR, Method::POST, "/v1/bookings", Some(body))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(smtp.received().len(), 3);
    // The hold's token is still needed: a wrong one is refused, naming the hold.
    let mut forged = booking(&held, "x@example.com");
    forged["hold_token"] = json!("0".repeat(64));
    let other = app
        .send_from("203.0.113.9", Method::POST, "/v1/bookings", Some(forged))
        .await;
    assert_eq!(other.broken_rules(), ["hold_id"]);
}

#[actix_web::test]
async fn a_booking_needs_consent_and_names_every_bad_field() {
    let (app, _smtp) = app_with_mail(RateLimits::UNLIMITED).await;
    let c = clinic(&app).await;
    let held = hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    let mut body = booking(&held, "not-an-email");
    body["consent"] = json!(false);
    body["patient"]["given_name"] = json!("");
    let mut fields = app
        .send_from(VISITOR, Method::POST, "/v1/bookings", Some(body))
        .await
        .invalid_fields();
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["consent", "patient.email", "patient.given_name"]);
    let mut future = booking(&held, "sam@example.com");
    future["patient"]["date_of_birth"] = json!("2030-01-01");
    let refused = app
        .send_from(VISITOR, Method::POST, "/v1/bookings", Some(future))
        .await;
    assert_eq!(refused.broken_rules(), ["patient.date_of_birth"]);
    app.clock.set(app.now() + Duration::minutes(10));
    app.send_from(
        VISITOR,
        Method::POST,
        "/v1/bookings",
        Some(booking(&held, "sam@example.com")),
    )
    .await
    .problem(409, "hold-expired");
}
