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
            .broken_rules(),
        ["types"]
    );
    let beyond = format!("/v1/events?after={}", head.parse::<i64>().unwrap() + 1);
    assert_eq!(app.get(&beyond).await.broken_rules(), ["after"]);
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
        key_id: None,
        role: Some(Role::Admin),
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
    let caller = Caller {
        key_id: Some(key_id),
        ..caller()
    };
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
    let caller = Caller {
        key_id: Some(key_id),
        ..caller()
    };
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

/// Every personal or free-text value below carries this mark; none may reach the log.
const CANARY: &str = "canarymark";

#[actix_web::test]
async fn every_change_is_logged_and_no_event_holds_personal_data() {
    let app = TestApp::new().await;
    let (_, start) = read_all(&app, "0").await;
    let mark = |what: &str| format!("{what} {CANARY}");
    // The catalog: created, changed, archived.
    let location = app
        .post(
            "/v1/locations",
            json!({"name": mark("Denver"), "time_zone": "America/Denver", "address": mark("1 Main St")}),
        )
        .await
        .expect(201);
    let location_id = location.body["id"].as_str().unwrap().to_owned();
    let area = app.treatment_area("knee").await;
    let provider = app.provider(&[&area], &[&location_id]).await;
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    app.weekly_hours(&provider, &location_id, &days, ("08:00", "17:00"))
        .await;
    let etag = |reply: &crate::support::Reply| reply.header("etag").unwrap().to_owned();
    let current = app
        .get(&format!("/v1/providers/{provider}"))
        .await
        .expect(200);
    app.patch(
        &format!("/v1/providers/{provider}"),
        &etag(&current),
        json!({"bio": mark("Sports medicine")}),
    )
    .await
    .expect(200);
    let off = app
        .post(
            &format!("/v1/providers/{provider}/time-off"),
            json!({"starts_at": "2027-02-01T00:00:00Z", "ends_at": "2027-02-02T00:00:00Z", "reason": mark("dentist")}),
        )
        .await
        .expect(201);
    let off_id = off.body["id"].as_str().unwrap();
    app.delete(&format!("/v1/providers/{provider}/time-off/{off_id}"))
        .await
        .expect(204);
    // A patient, changed.
    let patient = app
        .post(
            "/v1/patients",
            json!({"given_name": mark("Jordan"), "family_name": mark("Reyes"), "date_of_birth": "1968-04-12",
                   "email": format!("{CANARY}@example.com"), "phone": "+1 303 555 0142", "notes": mark("anxious")}),
        )
        .await
        .expect(201);
    let patient_id = patient.body["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/v1/patients/{patient_id}"),
        &etag(&patient),
        json!({"phone": "+1 303 555 0199", "notes": mark("calmer")}),
    )
    .await
    .expect(200);
    // A session through its whole life, with a clinical record.
    let booking = |starts_at: &str| {
        json!({"patient_id": patient_id, "provider_id": provider, "location_id": location_id,
               "treatment_area_id": area, "kind": "injection", "starts_at": starts_at})
    };
    let session = app
        .post("/v1/sessions", booking("2027-01-05T10:00:00-07:00"))
        .await
        .expect(201);
    let session_id = session.body["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/v1/sessions/{session_id}/{action}");
    app.post(
        &path("reschedule"),
        json!({"starts_at": "2027-01-05T11:00:00-07:00", "reason": mark("traffic")}),
    )
    .await
    .expect(200);
    app.post(&path("confirm"), json!(null)).await.expect(200);
    app.clock.set("2027-01-05T17:30:00Z".parse().unwrap());
    app.post(&path("check-in"), json!(null)).await.expect(200);
    app.clock.set("2027-01-05T18:10:00Z".parse().unwrap());
    let record = json!({"pain_before": 7, "pain_after": 2, "injectate": mark("dextrose"),
                        "sites": [mark("MCL")], "note": mark("tolerated")});
    app.post(&path("complete"), record).await.expect(200);
    let missed = app
        .post("/v1/sessions", booking("2027-01-06T10:00:00-07:00"))
        .await
        .expect(201);
    app.clock.set("2027-01-06T17:30:00Z".parse().unwrap());
    let missed_id = missed.body["id"].as_str().unwrap();
    app.post(&format!("/v1/sessions/{missed_id}/no-show"), json!(null))
        .await
        .expect(200);
    // A course: created with a goal, changed, extended, cancelled with a note.
    let course = app
        .post(
            "/v1/courses",
            json!({"patient_id": patient_id, "treatment_area_id": area, "location_id": location_id,
                   "sessions": 2, "first_starts_at": "2027-01-12T09:00:00-07:00", "book": true,
                   "side": "left", "goal": mark("run again")}),
        )
        .await
        .expect(201);
    let course_id = course.body["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/v1/courses/{course_id}"),
        &etag(&course),
        json!({"goal": mark("walk the dog")}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/v1/courses/{course_id}/extend"),
        json!({"sessions": 1}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/v1/courses/{course_id}/status"),
        json!({"status": "on_hold", "reason": mark("travelling")}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/v1/courses/{course_id}/cancel"),
        json!({"reason_code": "feeling_better", "note": mark("pain gone")}),
    )
    .await
    .expect(200);
    // An inquiry: received, triaged, converted into a new patient.
    let inquiry = app
        .send_as(
            None,
            actix_web::http::Method::POST,
            "/v1/inquiries",
            Some(
                json!({"name": mark("Sam Ortiz"), "email": format!("sam.{CANARY}@example.com"),
                        "kind": "question", "message": mark("my knee hurts"), "consent": true,
                        "source_page": format!("https://clinic.example/{CANARY}")}),
            ),
            &[],
        )
        .await
        .expect(201);
    let inquiry_id = inquiry.body["id"].as_str().unwrap().to_owned();
    let triaged = app
        .get(&format!("/v1/inquiries/{inquiry_id}"))
        .await
        .expect(200);
    app.patch(
        &format!("/v1/inquiries/{inquiry_id}"),
        &etag(&triaged),
        json!({"status": "contacted", "notes": mark("call back")}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/v1/inquiries/{inquiry_id}/convert"),
        json!({"patient": {"date_of_birth": "1980-02-03", "notes": mark("referred")}}),
    )
    .await
    .expect(200);
    app.post(&format!("/v1/patients/{patient_id}/archive"), json!(null))
        .await
        .expect(200);
    app.post(&format!("/v1/providers/{provider}/archive"), json!(null))
        .await
        .expect(200);
    let knee = app
        .get(&format!("/v1/treatment-areas/{area}"))
        .await
        .expect(200);
    app.patch(
        &format!("/v1/treatment-areas/{area}"),
        &etag(&knee),
        json!({"name": mark("Knee")}),
    )
    .await
    .expect(200);
    app.post(&format!("/v1/treatment-areas/{area}/archive"), json!(null))
        .await
        .expect(200);
    // A room, changed, taken down for a while, and archived.
    let room = app
        .post(
            "/v1/resources",
            json!({"location_id": location_id, "kind": "room", "name": mark("Room"), "tags": ["procedure-room"]}),
        )
        .await
        .expect(201);
    let room_path = format!("/v1/resources/{}", room.body["id"].as_str().unwrap());
    app.patch(&room_path, &etag(&room), json!({"name": mark("Room One")}))
        .await
        .expect(200);
    let down = app
        .post(
            &format!("{room_path}/downtime"),
            json!({"starts_at": "2027-02-01T00:00:00Z", "ends_at": "2027-02-02T00:00:00Z", "reason": mark("repair")}),
        )
        .await
        .expect(201);
    let down_id = down.body["id"].as_str().unwrap();
    app.delete(&format!("{room_path}/downtime/{down_id}"))
        .await
        .expect(204);
    app.post(&format!("{room_path}/archive"), json!({}))
        .await
        .expect(200);
    let location = app
        .get(&format!("/v1/locations/{location_id}"))
        .await
        .expect(200);
    app.patch(
        &format!("/v1/locations/{location_id}"),
        &etag(&location),
        json!({"name": mark("Denver Central")}),
    )
    .await
    .expect(200);
    app.post(&format!("/v1/locations/{location_id}/archive"), json!(null))
        .await
        .expect(200);

    let (events, _) = read_all(&app, &start).await;
    let mut seen: Vec<&str> = types(&events);
    seen.sort();
    seen.dedup();
    let every: Vec<&str> = {
        let mut all: Vec<&str> = prolo_scheduler::domain::events::EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        all.sort();
        all
    };
    let missing: Vec<&&str> = every.iter().filter(|t| !seen.contains(t)).collect();
    let elsewhere: Vec<&&str> = missing
        .iter()
        .copied()
        .filter(|t| **t != "course.completed" && !t.starts_with("waitlist_"))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "each other type is written by the workflows above (the courses suite completes one, \
         the waitlist suite writes the waitlist's): {elsewhere:?}"
    );
    let text = serde_json::to_string(&events).unwrap().to_lowercase();
    assert!(
        !text.contains(CANARY),
        "an event holds a personal value: {text}"
    );
    for personal in [
        "+1 303",
        "555 0142",
        "555 0199",
        "1968-04-12",
        "1980-02-03",
        "dextrose",
    ] {
        assert!(!text.contains(personal), "{personal} is in the log");
    }
    // And not in the table either, whatever the API shows.
    let mut conn = db::establish(&app.db.url).await.unwrap();
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Dump {
        #[diesel(sql_type = diesel::sql_types::Text)]
        dump: String,
    }
    let dump: Vec<Dump> = diesel::sql_query("SELECT d::text AS dump FROM domain_events d")
        .load(&mut conn)
        .await
        .unwrap();
    assert!(!dump.is_empty());
    assert!(
        dump.iter()
            .all(|row| !row.dump.to_lowercase().contains(CANARY))
    );
    let updated = events
        .iter()
        .find(|e| e["type"] == "patient.updated")
        .unwrap();
    assert_eq!(updated["data"]["fields"], json!(["phone", "notes"]));
}
