//! The event log: every change writes its event in its own transaction; readers get them in
//! commit order and miss none, whatever order concurrent transactions commit in.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use prolo_scheduler::app::booking::book::{Book, book};
use prolo_scheduler::app::calendar::Parties;
use prolo_scheduler::app::caller::Caller;
use prolo_scheduler::domain::access::Role;
use prolo_scheduler::domain::sessions::SessionKind;
use prolo_scheduler::{app, db};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestApp;
use crate::support::clinic::{clinic, new_patient};

/// Every event after `after` (a cursor), read page by page; and the last cursor.
pub async fn read_all(app: &TestApp, after: &str) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    let mut cursor = after.to_owned();
    loop {
        let page = app
            .get(&format!("/v1/events?after={cursor}&limit=2"))
            .await
            .expect(200);
        let items = page.body["items"].as_array().unwrap().clone();
        cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
        if items.is_empty() {
            return (events, cursor);
        }
        events.extend(items);
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[actix_web::test]
async fn a_session_s_life_is_in_the_log_in_order_with_thin_data() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let (_, start) = read_all(&app, "0").await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T09:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/sessions/{id}/reschedule"),
        json!({"starts_at": "2027-01-05T10:00:00-07:00", "reason": "asked"}),
    )
    .await
    .expect(200);
    app.post(&format!("/v1/sessions/{id}/confirm"), json!({}))
        .await
        .expect(200);
    app.post(
        &format!("/v1/sessions/{id}/cancel"),
        json!({"reason_code": "illness", "note": "flu"}),
    )
    .await
    .expect(200);
    let (events, _) = read_all(&app, &start).await;
    assert_eq!(
        types(&events),
        [
            "session.booked",
            "session.rescheduled",
            "session.confirmed",
            "session.cancelled"
        ]
    );
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for event in &events {
        assert_eq!(event["subject"], json!({"type": "session", "id": id}));
        assert_eq!(event["patient_id"], c.patient.as_str());
    }
    let moved = &events[1]["data"];
    assert_eq!(moved["previous_starts_at"], "2027-01-05T16:00:00Z");
    assert_eq!(moved["starts_at"], "2027-01-05T17:00:00Z");
    let cancelled = &events[3]["data"];
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["previous_status"], "confirmed");
    assert_eq!(cancelled["reason_code"], "illness");
    assert!(cancelled["late_cancellation"].is_boolean());
    assert!(!events[3].to_string().contains("flu"), "the note stays out");
}

#[actix_web::test]
async fn a_booked_course_logs_itself_and_each_session() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let body = json!({"patient_id": c.patient, "treatment_area_id": c.area, "location_id": c.location,
                      "sessions": 3, "first_starts_at": "2027-01-05T09:00:00-07:00", "book": true, "side": "left",
                      "goal": "Run again"});
    let course = app.post("/v1/courses", body).await.expect(201);
    let course_id = course.body["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/v1/courses/{course_id}/cancel"),
        json!({"reason_code": "feeling_better"}),
    )
    .await
    .expect(200);
    let (events, _) = read_all(&app, "0").await;
    let logged: Vec<&str> = types(&events)
        .into_iter()
        .filter(|t| {
            !t.starts_with("patient.")
                && !t.contains("provider")
                && !t.contains("location")
                && !t.contains("treatment_area")
                && !t.contains("working_hours")
        })
        .collect();
    assert_eq!(
        logged,
        [
            "course.created",
            "session.booked",
            "session.booked",
            "session.booked",
            "session.cancelled",
            "session.cancelled",
            "session.cancelled",
            "course.cancelled"
        ]
    );
    let cancelled = events.last().unwrap();
    assert_eq!(cancelled["data"]["cancelled_sessions"], 3);
    assert_eq!(cancelled["data"]["status"], "discontinued");
    assert!(!cancelled.to_string().contains("Run again"));
}

#[actix_web::test]
async fn types_filter_and_the_cursor_moves_past_what_was_filtered_out() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    app.post(
        "/v1/sessions",
        c.booking("assessment", "2027-01-05T09:00:00-07:00"),
    )
    .await
    .expect(201);
    let page = app
        .get("/v1/events?types=session.cancelled,course.created")
        .await
        .expect(200);
    assert_eq!(page.body["items"], json!([]));
    let (all, head) = read_all(&app, "0").await;
    assert_eq!(page.body["next_cursor"], head.as_str(), "{all:?}");
    let booked = app.get("/v1/events?types=session.booked").await.expect(200);
    assert_eq!(
        types(booked.body["items"].as_array().unwrap()),
        ["session.booked"]
    );
    assert_eq!(
        app.get("/v1/events?types=session.exploded")
            .await
            .invalid_fields(),
        ["types"]
    );
    let beyond = format!("/v1/events?after={}", head.parse::<i64>().unwrap() + 1);
    assert_eq!(app.get(&beyond).await.invalid_fields(), ["after"]);
    assert_eq!(
        app.get("/v1/events?after=-1").await.invalid_fields(),
        ["after"]
    );
}

#[actix_web::test]
async fn only_admin_and_integration_keys_read_the_log() {
    let app = TestApp::new().await;
    let integration = app.key(Role::Integration, None).await;
    let staff = app.key(Role::Staff, None).await;
    let read = |key: String| {
        let app = &app;
        async move {
            app.send_as(
                Some(&key),
                actix_web::http::Method::GET,
                "/v1/events",
                None,
                &[],
            )
            .await
            .status
            .as_u16()
        }
    };
    assert_eq!(read(integration).await, 200);
    assert_eq!(read(app.admin_key.clone()).await, 200);
    assert_eq!(read(staff).await, 403);
}

fn caller() -> Caller {
    Caller {
        key_id: Uuid::nil(),
        role: Role::Admin,
        provider_id: None,
        request_id: None,
    }
}

/// Books through the use case on its own connection, in a transaction left open until `commit`
/// is sent; reports once the booking (and its event) is written.
async fn book_held_open(
    url: String,
    command: Book,
    now: DateTime<Utc>,
    key_id: Uuid,
    written: tokio::sync::oneshot::Sender<()>,
    commit: tokio::sync::oneshot::Receiver<()>,
) {
    let mut conn = db::establish(&url).await.unwrap();
    let caller = Caller { key_id, ..caller() };
    conn.transaction::<_, prolo_scheduler::error::AppError, _>(async move |conn| {
        book(conn, &caller, &command, now).await?;
        written.send(()).unwrap();
        commit.await.unwrap();
        Ok(())
    })
    .await
    .unwrap();
}

#[actix_web::test]
async fn an_event_that_commits_after_a_later_one_is_still_read() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let other_provider = app.provider(&[&c.area], &[&c.location]).await;
    app.weekly_hours(
        &other_provider,
        &c.location,
        &["tuesday"],
        ("08:00", "17:00"),
    )
    .await;
    let other_patient = new_patient(&app, "sam@example.com").await;
    let (_, start) = read_all(&app, "0").await;
    let key_id = {
        let me = app.get("/v1/me").await.expect(200);
        Uuid::parse_str(me.body["key_id"].as_str().unwrap()).unwrap()
    };
    let id = |text: &str| Uuid::parse_str(text).unwrap();
    let command = |patient: &str, provider: &str| Book {
        parties: Parties {
            patient_id: id(patient),
            provider_id: id(provider),
            location_id: id(&c.location),
            treatment_area_id: id(&c.area),
        },
        kind: SessionKind::Assessment,
        starts_at: "2027-01-05T16:00:00Z".parse().unwrap(),
        course_id: None,
    };
    // The first transaction books and writes its event, and stays open.
    let (written, first_written) = tokio::sync::oneshot::channel();
    let (commit_first, first_commits) = tokio::sync::oneshot::channel();
    let first = actix_web::rt::spawn(book_held_open(
        app.db.url.clone(),
        command(&c.patient, &c.provider),
        app.now(),
        key_id,
        written,
        first_commits,
    ));
    first_written.await.unwrap();
    // A second one starts later, books, and commits first.
    let mut conn = db::establish(&app.db.url).await.unwrap();
    let second = command(&other_patient, &other_provider);
    let caller = Caller { key_id, ..caller() };
    let now = app.now();
    conn.transaction::<_, prolo_scheduler::error::AppError, _>(async |conn| {
        book(conn, &caller, &second, now).await
    })
    .await
    .unwrap();
    let (seen, cursor) = read_all(&app, &start).await;
    assert_eq!(types(&seen), ["session.booked"]);
    assert_eq!(seen[0]["patient_id"], other_patient.as_str());
    commit_first.send(()).unwrap();
    first.await.unwrap();
    let (late, _) = read_all(&app, &cursor).await;
    assert_eq!(
        types(&late),
        ["session.booked"],
        "the late commit is not missed"
    );
    assert_eq!(late[0]["patient_id"], c.patient.as_str());
    // Ordering by id (or by time) would have skipped it: it was written first.
    let first_id = id(late[0]["id"].as_str().unwrap());
    let second_id = id(seen[0]["id"].as_str().unwrap());
    assert!(first_id < second_id);
    assert!(late[0]["position"].as_i64() > seen[0]["position"].as_i64());
}

#[actix_web::test]
async fn events_past_their_retention_are_purged_in_batches() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    for hour in 9..12 {
        app.post(
            "/v1/sessions",
            c.booking("assessment", &format!("2027-01-05T{hour:02}:00:00-07:00")),
        )
        .await
        .expect(201);
    }
    let (before, _) = read_all(&app, "0").await;
    let mut conn = db::establish(&app.db.url).await.unwrap();
    let purged = app::events::purge_expired(&mut conn, 90, app.now() + Duration::days(89))
        .await
        .unwrap();
    assert_eq!(purged, 0, "nothing is 90 days old yet");
    let purged = app::events::purge_expired(&mut conn, 90, app.now() + Duration::days(91))
        .await
        .unwrap();
    assert_eq!(purged, before.len());
    let (after, _) = read_all(&app, "0").await;
    assert!(after.is_empty());
    // Positions go on from where they were: a reader's cursor stays good.
    app.post(
        "/v1/sessions",
        c.booking("assessment", "2027-01-05T13:00:00-07:00"),
    )
    .await
    .expect(201);
    let (next, _) = read_all(&app, "0").await;
    let last_before = before.last().unwrap()["position"].as_i64().unwrap();
    assert!(next[0]["position"].as_i64().unwrap() > last_before);
}
