//! Notifications against a real SMTP server (aiosmtpd): what arrives, in what order, with what
//! invite; reminders that follow their session; quiet hours; retries and failures; two workers
//! at once; the one-click unsubscribe; the front desk's API.

use chrono::{DateTime, Utc};
use icalendar::Component;
use prolo_scheduler::domain::access::Role;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::clinic::{Clinic, clinic, new_patient};
use crate::support::smtp::{Received, SmtpServer, round, worker};

/// The one invite of a message: its content type's method, the calendar's METHOD, and the event.
fn invite(message: &Received) -> (String, icalendar::Calendar) {
    let invites = message.invites();
    assert_eq!(invites.len(), 1, "one invite in {}", message.subject());
    let (content_type, text) = invites.into_iter().next().unwrap();
    let calendar: icalendar::Calendar = text.parse().expect("a valid iCalendar object");
    (content_type, calendar)
}

fn event(calendar: &icalendar::Calendar) -> &icalendar::Event {
    calendar.events().next().expect("one VEVENT")
}

fn utc_start(event: &icalendar::Event) -> DateTime<Utc> {
    match event.get_start() {
        Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(at))) => at,
        other => panic!("DTSTART is not in UTC: {other:?}"),
    }
}

async fn notifications(app: &TestApp, query: &str) -> Vec<Value> {
    app.get(&format!("/v1/notifications?limit=100&{query}"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn book(app: &TestApp, c: &Clinic, kind: &str, starts_at: &str) -> String {
    app.post("/v1/sessions", c.booking(kind, starts_at))
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn a_confirmation_a_reminder_a_move_and_a_cancellation_arrive_in_order() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let smtp = SmtpServer::start().await;
    let data = std::env::temp_dir();
    let worker = worker(&app, Some(&smtp.url()), &data);
    // An injection on Wednesday 09:00 in Denver (16:00Z), booked on Monday 08:00.
    let session = book(&app, &c, "injection", "2027-01-06T16:00:00Z").await;
    assert_eq!(round(&worker).await.sent, 1);

    let sent = smtp.received();
    assert_eq!(sent.len(), 1);
    let confirmation = &sent[0];
    assert_eq!(confirmation.rcpt_tos, ["jordan@example.com"]);
    assert!(confirmation.subject().starts_with("Booked: your injection appointment on Wednesday 6 January 2027, 09:00 (America/Denver, MST)"), "{}", confirmation.subject());
    let text = confirmation.text();
    assert!(text.contains("Hello Jordan,"), "{text}");
    assert!(text.contains("Where: Denver"), "{text}");
    assert!(
        confirmation
            .html()
            .contains("<strong>Wednesday 6 January 2027, 09:00 (America"),
        "{}",
        confirmation.html()
    );
    let message_id = confirmation.header("Message-ID").unwrap();
    assert!(message_id.starts_with("<notification-") && message_id.ends_with("@clinic.example>"));
    let unsubscribe = confirmation.header("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with("<http://clinic.example/v1/unsubscribe/"),
        "{unsubscribe}"
    );
    assert_eq!(
        confirmation.header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    let (content_type, calendar) = invite(confirmation);
    assert_eq!(content_type, "text/calendar; method=REQUEST");
    assert_eq!(calendar.property_value("METHOD"), Some("REQUEST"));
    let booked = event(&calendar);
    let uid = booked.get_uid().unwrap().to_owned();
    assert_eq!(uid, format!("session-{session}@clinic.example"));
    assert_eq!(booked.get_sequence(), Some(0));
    assert_eq!(utc_start(booked), at("2027-01-06T16:00:00Z"));

    // Nothing more until the 24-hour reminder's moment; then exactly it.
    assert_eq!(round(&worker).await.sent, 0);
    app.clock.set(at("2027-01-05T16:00:00Z"));
    assert_eq!(round(&worker).await.sent, 1);
    let reminder = &smtp.received()[1];
    assert!(
        reminder
            .subject()
            .starts_with("Reminder: your injection appointment"),
        "{}",
        reminder.subject()
    );
    assert!(
        reminder
            .text()
            .contains("A reminder of your appointment tomorrow.")
    );
    assert_eq!(event(&invite(reminder).1).get_sequence(), Some(0));

    // A move: a notice naming where it was, an invite with the same UID and SEQUENCE 1.
    app.post(
        &format!("/v1/sessions/{session}/reschedule"),
        json!({"starts_at": "2027-01-07T17:00:00Z"}),
    )
    .await
    .expect(200);
    assert_eq!(round(&worker).await.sent, 1);
    let moved = &smtp.received()[2];
    assert!(
        moved.subject().starts_with(
            "Moved: your injection appointment is now on Thursday 7 January 2027, 10:00"
        ),
        "{}",
        moved.subject()
    );
    assert!(
        moved
            .text()
            .contains("moved from Wednesday 6 January 2027, 09:00 (America/Denver, MST)")
    );
    let (_, calendar) = invite(moved);
    let moved_event = event(&calendar);
    assert_eq!(moved_event.get_uid(), Some(uid.as_str()));
    assert_eq!(moved_event.get_sequence(), Some(1));
    assert_eq!(utc_start(moved_event), at("2027-01-07T17:00:00Z"));

    // A cancellation: METHOD:CANCEL for the same event, one revision later.
    app.post(
        &format!("/v1/sessions/{session}/cancel"),
        json!({"reason_code": "patient_request"}),
    )
    .await
    .expect(200);
    assert_eq!(round(&worker).await.sent, 1);
    let cancelled = &smtp.received()[3];
    assert!(
        cancelled
            .subject()
            .starts_with("Cancelled: your injection appointment on Thursday 7 January 2027")
    );
    let (content_type, calendar) = invite(cancelled);
    assert_eq!(content_type, "text/calendar; method=CANCEL");
    assert_eq!(calendar.property_value("METHOD"), Some("CANCEL"));
    let cancelled_event = event(&calendar);
    assert_eq!(cancelled_event.get_uid(), Some(uid.as_str()));
    assert_eq!(cancelled_event.get_sequence(), Some(2));
    assert_eq!(cancelled_event.property_value("STATUS"), Some("CANCELLED"));

    // The moved session's reminders were cancelled with it; nothing else ever goes.
    app.clock.set(at("2027-01-07T16:00:00Z"));
    assert_eq!(round(&worker).await.sent, 0);
    assert_eq!(smtp.received().len(), 4);
    let kinds: Vec<(String, String)> = notifications(&app, &format!("session_id={session}"))
        .await
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let count = |kind: &str, status: &str| {
        kinds
            .iter()
            .filter(|k| k.0 == kind && k.1 == status)
            .count()
    };
    assert_eq!(count("booking_confirmation", "sent"), 1);
    assert_eq!(count("reminder", "sent"), 1);
    assert_eq!(count("reminder", "cancelled"), 3, "{kinds:?}");
    assert_eq!(count("rescheduled", "sent"), 1);
    assert_eq!(count("cancelled", "sent"), 1);
    // Messages name no clinical value or note.
    for message in smtp.received() {
        assert!(!message.text().contains("patient_request"));
    }
}

#[actix_web::test]
async fn reminders_follow_their_session_are_skipped_when_late_and_wait_out_quiet_hours() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let data = std::env::temp_dir();
    let smtp = SmtpServer::start().await;
    let worker = worker(&app, Some(&smtp.url()), &data);
    // Tuesday 08:30 Denver (15:30Z): 24 h before is Monday 08:30, ahead; 2 h before is 06:30,
    // inside quiet hours, so it waits for 08:00.
    let session = book(&app, &c, "assessment", "2027-01-05T15:30:00Z").await;
    round(&worker).await;
    let reminders = notifications(&app, &format!("session_id={session}&kind=reminder")).await;
    let due: Vec<(i64, &str, &str)> = reminders
        .iter()
        .map(|r| {
            (
                r["offset_minutes"].as_i64().unwrap(),
                r["due_at"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        due,
        vec![
            (1440, "2027-01-04T15:30:00Z", "pending"),
            (120, "2027-01-05T15:00:00Z", "pending")
        ]
    );

    // Booked 8 hours ahead: the 24-hour reminder's moment has passed, so it is skipped, never
    // sent late; the 2-hour one is due.
    app.patch("/v1/settings", "*", json!({"minimum_notice_minutes": 60}))
        .await
        .expect(200);
    let soon = book(&app, &c, "follow_up", "2027-01-04T23:00:00Z").await;
    round(&worker).await;
    let reminders = notifications(&app, &format!("session_id={soon}&kind=reminder")).await;
    let states: Vec<(&str, &Value)> = reminders
        .iter()
        .map(|r| (r["status"].as_str().unwrap(), &r["skip_reason"]))
        .collect();
    assert_eq!(
        states,
        vec![
            ("skipped", &json!("moment_passed")),
            ("pending", &Value::Null)
        ]
    );

    // A confirmation at 22:00 Denver waits for 08:00.
    app.clock.set(at("2027-01-05T05:00:00Z"));
    let late = book(&app, &c, "follow_up", "2027-01-06T20:00:00Z").await;
    let before = smtp.received().len();
    round(&worker).await;
    assert_eq!(smtp.received().len(), before, "nothing is sent at night");
    let confirmation = &notifications(
        &app,
        &format!("session_id={late}&kind=booking_confirmation"),
    )
    .await[0];
    assert_eq!(confirmation["status"], "pending");
    assert_eq!(confirmation["due_at"], "2027-01-05T15:00:00Z");
    assert_eq!(confirmation["attempts"], 0);
    app.clock.set(at("2027-01-05T15:00:00Z"));
    round(&worker).await;
    let confirmation = &notifications(
        &app,
        &format!("session_id={late}&kind=booking_confirmation"),
    )
    .await[0];
    assert_eq!(confirmation["status"], "sent");
    assert_eq!(confirmation["sent_at"], "2027-01-05T15:00:00Z");
}

#[actix_web::test]
async fn transient_failures_retry_with_backoff_and_permanent_ones_fail_with_the_reason() {
    let app = TestApp::new().await;
    let mut c = clinic(&app).await;
    let data = std::env::temp_dir();
    let smtp = SmtpServer::start().await;
    let worker = worker(&app, Some(&smtp.url()), &data);
    c.patient = new_patient(&app, "flaky@example.com").await;
    let flaky = book(&app, &c, "assessment", "2027-01-06T16:00:00Z").await;
    c.patient = new_patient(&app, "reject@example.com").await;
    let rejected = book(&app, &c, "assessment", "2027-01-07T16:00:00Z").await;
    assert_eq!(round(&worker).await.sent, 0);

    let first = &notifications(
        &app,
        &format!("session_id={flaky}&kind=booking_confirmation"),
    )
    .await[0];
    assert_eq!(first["status"], "pending");
    assert_eq!(first["attempts"], 1);
    assert_eq!(
        first["due_at"], "2027-01-04T15:01:00Z",
        "retried a minute later"
    );
    assert!(
        first["last_error"].as_str().unwrap().contains("451"),
        "{first}"
    );
    let refused = &notifications(
        &app,
        &format!("session_id={rejected}&kind=booking_confirmation"),
    )
    .await[0];
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["last_error"].as_str().unwrap().contains("550"),
        "{refused}"
    );

    app.clock.set(at("2027-01-04T15:01:00Z"));
    assert_eq!(round(&worker).await.sent, 1);
    let retried = &notifications(
        &app,
        &format!("session_id={flaky}&kind=booking_confirmation"),
    )
    .await[0];
    assert_eq!(retried["status"], "sent");
    assert_eq!(retried["attempts"], 2);
    assert_eq!(smtp.received().len(), 1);
    // A failed message may be resent by the front desk: a new notification, queued.
    let id = refused["id"].as_str().unwrap();
    let resent = app
        .post(&format!("/v1/notifications/{id}/resend"), json!({}))
        .await
        .expect(202);
    assert_eq!(resent.body["resend_of"], id);
    assert_eq!(resent.body["status"], "pending");
    // One that is still pending is refused.
    let pending = notifications(&app, "status=pending&kind=reminder").await;
    let pending_id = pending[0]["id"].as_str().unwrap();
    let refused = app
        .post(&format!("/v1/notifications/{pending_id}/resend"), json!({}))
        .await;
    assert_eq!(refused.broken_rules(), ["id"]);
}

#[actix_web::test]
async fn two_workers_at_once_send_each_message_once() {
    let app = TestApp::new().await;
    let mut c = clinic(&app).await;
    let data = std::env::temp_dir();
    let smtp = SmtpServer::start().await;
    let first = worker(&app, Some(&smtp.url()), &data);
    let second = worker(&app, Some(&smtp.url()), &data);
    let mut expected = 0;
    for i in 0..12 {
        c.patient = new_patient(&app, &format!("patient{i}@example.com")).await;
        let hour = 15 + (i % 8);
        let day = 6 + i / 8;
        book(
            &app,
            &c,
            "assessment",
            &format!("2027-01-{day:02}T{hour}:00:00Z"),
        )
        .await;
        expected += 1;
    }
    let (a, b) = tokio::join!(first.round(), second.round());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, expected);
    let (a, b) = tokio::join!(first.round(), second.round());
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 0);
    let received = smtp.received();
    assert_eq!(received.len(), expected);
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected, "no message twice");
}

#[actix_web::test]
async fn a_course_is_summarised_once_and_each_session_is_reminded() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let data = std::env::temp_dir();
    let smtp = SmtpServer::start().await;
    let worker = worker(&app, Some(&smtp.url()), &data);
    let body = json!({"patient_id": c.patient, "treatment_area_id": c.area, "location_id": c.location,
        "sessions": 3, "interval_days": {"min": 14, "max": 28}, "first_starts_at": "2027-01-06T16:00:00Z",
        "side": "left", "book": true});
    let course = app.post("/v1/courses", body).await.expect(201);
    let course_id = course.body["id"].as_str().unwrap();
    round(&worker).await;
    let received = smtp.received();
    assert_eq!(
        received.len(),
        1,
        "one summary, no confirmation per session"
    );
    let summary = &received[0];
    assert!(
        summary.subject().contains("3 appointments booked"),
        "{}",
        summary.subject()
    );
    assert!(summary.text().contains("knee (left)"), "{}", summary.text());
    let invites = summary.invites();
    assert_eq!(invites.len(), 3);
    for (_, text) in &invites {
        let calendar: icalendar::Calendar = text.parse().unwrap();
        assert_eq!(calendar.property_value("METHOD"), Some("REQUEST"));
    }
    let all = notifications(&app, "kind=course_booked").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["course_id"], course_id);
    let reminders = notifications(&app, "kind=reminder").await;
    assert_eq!(reminders.len(), 6, "two per session");
}

#[actix_web::test]
async fn the_unsubscribe_link_turns_email_off_on_post_only() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let data = std::env::temp_dir();
    let smtp = SmtpServer::start().await;
    let worker = worker(&app, Some(&smtp.url()), &data);
    book(&app, &c, "assessment", "2027-01-06T16:00:00Z").await;
    round(&worker).await;
    let link = smtp.received()[0].header("List-Unsubscribe").unwrap();
    let path = link
        .trim_matches(|ch| ch == '<' || ch == '>')
        .trim_start_matches("http://clinic.example")
        .to_owned();
    assert!(
        smtp.received()[0]
            .text()
            .contains(&format!("http://clinic.example{path}"))
    );

    // Reading the link (as a mail scanner does) changes nothing.
    let page = app
        .send_as(None, actix_web::http::Method::GET, &path, None, &[])
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let patient = app
        .get(&format!("/v1/patients/{}", c.patient))
        .await
        .expect(200);
    assert_eq!(patient.body["email_notifications"], true);

    // The one-click POST turns it off, once, audited, with an event.
    let done = app.send_form(&path, "List-Unsubscribe=One-Click").await;
    assert_eq!(done.status, 200);
    let again = app.send_form(&path, "List-Unsubscribe=One-Click").await;
    assert_eq!(again.status, 200, "idempotent");
    let patient = app
        .get(&format!("/v1/patients/{}", c.patient))
        .await
        .expect(200);
    assert_eq!(patient.body["email_notifications"], false);
    let audit = app
        .get(&format!(
            "/v1/audit-events?patient_id={}&limit=100",
            c.patient
        ))
        .await
        .expect(200);
    let unsubscribes = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "patient.unsubscribe")
        .count();
    assert_eq!(unsubscribes, 2);
    let (events, _) = crate::events::read_all(&app, "0").await;
    let updates: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["type"] == "patient.updated" && e["data"]["fields"] == json!(["email_notifications"])
        })
        .collect();
    assert_eq!(updates.len(), 1);

    // Reminders due later are skipped: the patient opted out.
    app.clock.set(at("2027-01-05T16:00:00Z"));
    round(&worker).await;
    assert_eq!(smtp.received().len(), 1);
    let skipped = notifications(&app, "kind=reminder&status=skipped").await;
    assert_eq!(skipped[0]["skip_reason"], "opted_out");

    // A token nobody issued is not found, and says nothing more.
    let unknown = format!("/v1/unsubscribe/{}", "0".repeat(64));
    assert_eq!(app.send_form(&unknown, "").await.status, 404);
    assert_eq!(
        app.send_form("/v1/unsubscribe/not-a-token", "")
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn the_front_desk_reads_notifications_and_an_integration_sees_only_their_status() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let dir = std::env::temp_dir().join(format!("prolo-mail-{}", uuid::Uuid::new_v4()));
    // Without SMTP, messages land as files: one per notification, named by its id.
    let worker = worker(&app, None, &dir);
    let session = book(&app, &c, "injection", "2027-01-06T16:00:00Z").await;
    round(&worker).await;
    let confirmation = &notifications(
        &app,
        &format!("session_id={session}&kind=booking_confirmation"),
    )
    .await[0];
    let id = confirmation["id"].as_str().unwrap();
    let file = dir.join("mail").join(format!("{id}.eml"));
    let raw = std::fs::read_to_string(&file).expect("the message is written as a file");
    assert!(
        raw.contains("Content-Type: text/calendar; charset=utf-8; method=REQUEST"),
        "{raw}"
    );

    let detail = app
        .get(&format!("/v1/notifications/{id}"))
        .await
        .expect(200);
    assert_eq!(detail.body["status"], "sent");
    assert_eq!(detail.body["channel"], "email");
    assert!(
        detail.body["subject"]
            .as_str()
            .unwrap()
            .starts_with("Booked: ")
    );
    // A pending reminder shows the subject it would have.
    let reminder = &notifications(&app, "kind=reminder&status=pending").await[0];
    let preview = app
        .get(&format!(
            "/v1/notifications/{}",
            reminder["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert!(
        preview.body["subject"]
            .as_str()
            .unwrap()
            .starts_with("Reminder: ")
    );

    let integration = app.key(Role::Integration, None).await;
    let seen = app
        .send_as(
            Some(&integration),
            actix_web::http::Method::GET,
            &format!("/v1/notifications/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body["status"], "sent");
    assert_eq!(seen.body["subject"], Value::Null);
    let listed = app
        .send_as(
            Some(&integration),
            actix_web::http::Method::GET,
            "/v1/notifications",
            None,
            &[],
        )
        .await;
    assert_eq!(listed.status, 200);
    let audit = app
        .get(&format!(
            "/v1/audit-events?patient_id={}&limit=100",
            c.patient
        ))
        .await
        .expect(200);
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "notification.read")
    );
    assert_eq!(
        app.get("/v1/notifications?status=lost")
            .await
            .invalid_fields(),
        ["status"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn settings_hold_reminder_offsets_quiet_hours_and_the_sender() {
    let app = TestApp::new().await;
    let settings = app.get("/v1/settings").await.expect(200);
    assert_eq!(
        settings.body["reminder_offsets_minutes"],
        json!([1440, 120])
    );
    assert_eq!(
        settings.body["quiet_hours"],
        json!({"start": "21:00", "end": "08:00"})
    );
    let changed = app
        .patch(
            "/v1/settings",
            "*",
            json!({"reminder_offsets_minutes": [2880], "quiet_hours": null, "sender_name": "Front Range Prolo", "reply_to": "desk@clinic.example"}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["reminder_offsets_minutes"], json!([2880]));
    assert_eq!(changed.body["quiet_hours"], Value::Null);
    assert_eq!(changed.body["sender_name"], "Front Range Prolo");
    for (body, field) in [
        (
            json!({"reminder_offsets_minutes": [0]}),
            "reminder_offsets_minutes",
        ),
        (
            json!({"reminder_offsets_minutes": [60, 60]}),
            "reminder_offsets_minutes",
        ),
        (
            json!({"quiet_hours": {"start": "21:00", "end": "21:00"}}),
            "quiet_hours",
        ),
        (
            json!({"quiet_hours": {"start": "25:00", "end": "08:00"}}),
            "quiet_hours",
        ),
        (json!({"sender_name": "  "}), "sender_name"),
        (json!({"reply_to": "not an address"}), "reply_to"),
    ] {
        let refused = app.patch("/v1/settings", "*", body.clone()).await;
        let fields = refused.refused_fields();
        assert!(
            fields.len() == 1 && fields[0].starts_with(field),
            "{body}: {fields:?}"
        );
    }
}

#[actix_web::test]
async fn smtp_with_credentials_authenticates_and_a_refused_login_fails() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let smtp = SmtpServer::with_auth("clinic", "s3cret").await;
    let data = std::env::temp_dir();
    let wrong = format!("smtp://clinic:wrong@127.0.0.1:{}", smtp.port);
    book(&app, &c, "assessment", "2027-01-06T16:00:00Z").await;
    assert_eq!(round(&worker(&app, Some(&wrong), &data)).await.sent, 0);
    let refused = &notifications(&app, "kind=booking_confirmation").await[0];
    assert_eq!(refused["status"], "failed");
    assert!(
        refused["last_error"].as_str().unwrap().contains("535"),
        "{refused}"
    );
    assert_eq!(smtp.received().len(), 0);
    let id = refused["id"].as_str().unwrap();
    app.post(&format!("/v1/notifications/{id}/resend"), json!({}))
        .await
        .expect(202);
    let right = format!("smtp://clinic:s3cret@127.0.0.1:{}", smtp.port);
    assert_eq!(round(&worker(&app, Some(&right), &data)).await.sent, 1);
    assert_eq!(smtp.received().len(), 1);
}

#[actix_web::test]
async fn a_lapsed_claim_is_taken_again_and_the_copy_keeps_its_message_id() {
    use prolo_scheduler::app::notifications::{deliver, plan};
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let smtp = SmtpServer::start().await;
    let data = std::env::temp_dir();
    let worker = worker(&app, Some(&smtp.url()), &data);
    book(&app, &c, "assessment", "2027-01-06T16:00:00Z").await;
    // A worker claims the confirmation, sends it, and dies before it records the send.
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    plan::plan_pending(&mut conn, app.now()).await.unwrap();
    let claims = deliver::claim(&mut conn, 10, app.now()).await.unwrap();
    assert_eq!(claims.len(), 1);
    let next = deliver::prepare(&mut conn, &worker.outbox, &claims[0], app.now())
        .await
        .unwrap();
    let deliver::Next::Send(letter) = next else {
        panic!("the confirmation is due: {next:?}");
    };
    worker.mailer.send(&letter).await.unwrap();
    // While its lease holds, no other worker takes it.
    assert_eq!(round(&worker).await.sent, 0);
    // Once it lapses, another does: the one way to a second copy, with the same Message-ID.
    app.clock.set(app.now() + chrono::Duration::minutes(6));
    assert_eq!(round(&worker).await.sent, 1);
    let received = smtp.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].header("Message-ID"),
        received[1].header("Message-ID")
    );
    // The dead worker's settle, were it to come late, changes nothing.
    let late = deliver::settle_send(
        &mut conn,
        &claims[0],
        letter.subject.clone(),
        Ok(()),
        app.now(),
    );
    assert!(!late.await.unwrap());
    let confirmation = &notifications(&app, "kind=booking_confirmation").await[0];
    assert_eq!(confirmation["status"], "sent");
    assert_eq!(confirmation["attempts"], 2);
}

#[actix_web::test]
async fn a_mail_server_that_is_down_is_retried_like_any_transient_failure() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let data = std::env::temp_dir();
    // A port nothing listens on: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = worker(&app, Some(&format!("smtp://127.0.0.1:{port}")), &data);
    book(&app, &c, "assessment", "2027-01-06T16:00:00Z").await;
    assert_eq!(round(&down).await.sent, 0);
    let waiting = &notifications(&app, "kind=booking_confirmation").await[0];
    assert_eq!(waiting["status"], "pending");
    assert_eq!(waiting["attempts"], 1);
    assert_eq!(waiting["due_at"], "2027-01-04T15:01:00Z");
    assert!(
        waiting["last_error"].as_str().unwrap().starts_with("SMTP"),
        "{waiting}"
    );
    // Back up a minute later: sent on the second attempt.
    let smtp = SmtpServer::start().await;
    app.clock.set(at("2027-01-04T15:01:00Z"));
    assert_eq!(round(&worker(&app, Some(&smtp.url()), &data)).await.sent, 1);
    let sent = &notifications(&app, "kind=booking_confirmation").await[0];
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["attempts"], 2);
}

#[actix_web::test]
async fn a_url_that_asks_for_tls_never_sends_in_the_clear() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let data = std::env::temp_dir();
    // The test server speaks plain SMTP only: no TLS on connect, no STARTTLS.
    let smtp = SmtpServer::start().await;
    book(&app, &c, "assessment", "2027-01-06T16:00:00Z").await;
    for url in [
        format!("smtps://127.0.0.1:{}", smtp.port),
        format!("smtp://127.0.0.1:{}?tls=required", smtp.port),
    ] {
        assert_eq!(
            round(&worker(&app, Some(&url), &data)).await.sent,
            0,
            "{url}"
        );
        let waiting = &notifications(&app, "kind=booking_confirmation").await[0];
        assert_eq!(
            waiting["status"], "pending",
            "{url}: retried later, not failed"
        );
        assert!(waiting["last_error"].is_string());
        app.clock.set(at(waiting["due_at"].as_str().unwrap()));
    }
    assert_eq!(smtp.received().len(), 0, "nothing was sent without TLS");
}
