use actix_web::http::Method;
use prolo_scheduler::domain::access::Role;
use serde_json::{Value, json};

use crate::support::TestApp;

pub use crate::support::clinic::{Clinic, clinic, new_patient};

#[actix_web::test]
async fn a_booking_takes_its_length_from_the_area_and_speaks_local_time() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    // Tuesday 2027-01-05 09:00 in Denver (MST, -07:00); now is Monday 08:00 there.
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T16:00:00Z"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        booked.header("location"),
        Some(format!("/v1/sessions/{id}").as_str())
    );
    assert_eq!(booked.body["status"], "scheduled");
    assert_eq!(booked.body["starts_at"], "2027-01-05T09:00:00-07:00");
    assert_eq!(
        booked.body["ends_at"], "2027-01-05T09:45:00-07:00",
        "45-minute assessment"
    );
    assert_eq!(booked.body["time_zone"], "America/Denver");
    let fetched = app.get(&format!("/v1/sessions/{id}")).await.expect(200);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
    assert_eq!(fetched.body["id"], id.as_str());
}

#[actix_web::test]
async fn every_booking_rule_names_itself() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let refused = |body: Value| {
        let app = &app;
        async move { app.post("/v1/sessions", body).await }
    };
    refused(c.booking("injection", "2027-01-05T06:00:00-07:00"))
        .await
        .problem(422, "outside-working-hours");
    refused(c.booking("injection", "2027-01-09T10:00:00-07:00"))
        .await
        .problem(422, "outside-working-hours");
    refused(c.booking("assessment", "2027-01-05T16:30:00-07:00"))
        .await
        .problem(422, "outside-working-hours");
    refused(c.booking("injection", "2027-01-04T14:00:00-07:00"))
        .await
        .problem(422, "too-short-notice");
    refused(c.booking("injection", "2027-09-06T10:00:00-06:00"))
        .await
        .problem(422, "beyond-horizon");
    let body = refused(c.booking("injection", "2027-01-05T10:00:00"))
        .await
        .problem(422, "time-without-offset");
    assert!(body["detail"].as_str().unwrap().contains("offset"));
    assert_eq!(
        refused(c.booking("injection", "next tuesday"))
            .await
            .invalid_fields(),
        ["starts_at"]
    );

    app.post(
        &format!("/v1/providers/{}/time-off", c.provider),
        json!({"starts_at": "2027-01-06T00:00:00-07:00", "ends_at": "2027-01-07T00:00:00-07:00"}),
    )
    .await
    .expect(201);
    refused(c.booking("injection", "2027-01-06T10:00:00-07:00"))
        .await
        .problem(422, "provider-on-time-off");

    let hip = app.treatment_area("hip").await;
    let mut other_area = c.booking("injection", "2027-01-05T10:00:00-07:00");
    other_area["treatment_area_id"] = json!(hip);
    refused(other_area)
        .await
        .problem(422, "provider-not-eligible");
    let elsewhere = app.location("Boulder", "America/Denver").await;
    let mut other_place = c.booking("injection", "2027-01-05T10:00:00-07:00");
    other_place["location_id"] = json!(elsewhere);
    refused(other_place)
        .await
        .problem(422, "provider-not-eligible");
    let mut ghost = c.booking("injection", "2027-01-05T10:00:00-07:00");
    ghost["patient_id"] = json!(uuid::Uuid::now_v7());
    assert_eq!(refused(ghost).await.broken_rules(), ["patient_id"]);

    app.post(&format!("/v1/patients/{}/archive", c.patient), json!(null))
        .await
        .expect(200);
    refused(c.booking("injection", "2027-01-05T10:00:00-07:00"))
        .await
        .problem(422, "inactive-record");
    let sessions = app.get("/v1/sessions").await.expect(200);
    assert!(
        sessions.body["items"].as_array().unwrap().is_empty(),
        "nothing was written"
    );
}

#[actix_web::test]
async fn overlaps_are_refused_for_the_provider_with_buffer_and_for_the_patient() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    // A 30-minute injection at 10:00 holds the provider until 10:40 (10-minute buffer).
    app.post(
        "/v1/sessions",
        c.booking("injection", "2027-01-05T10:00:00-07:00"),
    )
    .await
    .expect(201);
    let other_patient = new_patient(&app, "sam@example.com").await;
    let mut next = c.booking("follow_up", "2027-01-05T10:30:00-07:00");
    next["patient_id"] = json!(other_patient);
    app.post("/v1/sessions", next.clone())
        .await
        .problem(409, "slot-taken");
    next["starts_at"] = json!("2027-01-05T10:40:00-07:00");
    app.post("/v1/sessions", next).await.expect(201);

    // The same patient cannot be with another provider at the same time.
    let other_provider = app.provider(&[&c.area], &[&c.location]).await;
    let intervals = json!({"intervals": [{"location_id": c.location, "weekday": "tuesday", "start": "08:00", "end": "17:00"}]});
    app.put(
        &format!("/v1/providers/{other_provider}/working-hours"),
        intervals,
    )
    .await
    .expect(200);
    let mut elsewhere = c.booking("assessment", "2027-01-05T10:15:00-07:00");
    elsewhere["provider_id"] = json!(other_provider);
    app.post("/v1/sessions", elsewhere)
        .await
        .problem(409, "patient-double-booked");
}

#[actix_web::test]
async fn a_cancelled_slot_can_be_booked_again_at_once() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let first = app
        .post(
            "/v1/sessions",
            c.booking("injection", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = first.body["id"].as_str().unwrap();
    let cancelled = app
        .post(
            &format!("/v1/sessions/{id}/cancel"),
            json!({"reason_code": "illness", "note": "flu"}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["cancel_reason"], "illness");
    assert_eq!(
        cancelled.body["late_cancellation"], false,
        "more than 24 h ahead"
    );
    app.post(
        "/v1/sessions",
        c.booking("injection", "2027-01-05T10:00:00-07:00"),
    )
    .await
    .expect(201);
    app.post(
        &format!("/v1/sessions/{id}/cancel"),
        json!({"reason_code": "illness"}),
    )
    .await
    .problem(409, "invalid-transition");
}

#[actix_web::test]
async fn late_cancellations_are_flagged() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T08:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap();
    // The next morning, two hours before the start.
    app.clock.set("2027-01-05T13:00:00Z".parse().unwrap());
    let cancelled = app
        .post(
            &format!("/v1/sessions/{id}/cancel"),
            json!({"reason_code": "patient_request"}),
        )
        .await;
    assert_eq!(
        cancelled.expect(200).body["late_cancellation"],
        true,
        "inside 24 h"
    );
    let bad = app
        .post(
            &format!("/v1/sessions/{id}/cancel"),
            json!({"reason_code": "bored"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["reason_code"]);
}

#[actix_web::test]
async fn the_lifecycle_runs_from_booking_to_the_clinical_record() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("injection", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/v1/sessions/{id}/{action}");
    let record = json!({"pain_before": 6, "pain_after": 3, "function_score": 55, "injectate": "dextrose 15%",
                        "volume_ml": 12.5, "sites": ["MCL"], "adverse_events": [{"kind": "swelling", "severity": "mild"}]});
    app.post(&path("complete"), record.clone())
        .await
        .problem(409, "invalid-transition");
    app.post(&path("no-show"), json!(null))
        .await
        .problem(422, "too-early");
    app.send(
        Method::POST,
        &path("confirm"),
        None,
        &[("if-match", "\"9\"")],
    )
    .await
    .problem(412, "precondition-failed");
    assert_eq!(
        app.post(&path("confirm"), json!(null))
            .await
            .expect(200)
            .body["status"],
        "confirmed"
    );
    app.post(&path("confirm"), json!(null))
        .await
        .problem(409, "invalid-transition");
    // A day early: the check-in window opens two hours before and closes at local midnight.
    let early = app
        .post(&path("check-in"), json!(null))
        .await
        .problem(422, "outside-visit-window");
    assert_eq!(early["allowed_from"], "2027-01-05T08:00:00-07:00");
    assert_eq!(early["allowed_until"], "2027-01-06T00:00:00-07:00");
    app.clock.set("2027-01-05T16:30:00Z".parse().unwrap()); // 09:30 in Denver
    assert_eq!(
        app.post(&path("check-in"), json!(null))
            .await
            .expect(200)
            .body["status"],
        "checked_in"
    );
    app.post(&path("cancel"), json!({"reason_code": "other"}))
        .await
        .problem(409, "invalid-transition");
    let before_start = app
        .post(&path("complete"), record.clone())
        .await
        .problem(422, "outside-visit-window");
    assert_eq!(before_start["allowed_from"], "2027-01-05T10:00:00-07:00");
    assert!(before_start.get("allowed_until").is_none());
    app.clock.set("2027-01-05T17:20:00Z".parse().unwrap());
    let mut bad = record.clone();
    bad["pain_after"] = json!(11);
    assert_eq!(
        app.post(&path("complete"), bad).await.invalid_fields(),
        ["pain_after"]
    );
    let done = app.post(&path("complete"), record).await.expect(200);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["clinical_record"]["pain_after"], 3);
    assert_eq!(
        done.body["clinical_record"]["adverse_events"][0]["kind"],
        "swelling"
    );
    app.post(&path("no-show"), json!(null))
        .await
        .problem(409, "invalid-transition");
    let fetched = app.get(&format!("/v1/sessions/{id}")).await.expect(200);
    assert_eq!(fetched.body["clinical_record"]["injectate"], "dextrose 15%");

    let history = app.get(&path("history")).await.expect(200);
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["booked", "confirmed", "checked_in", "completed"]);
}

/// The instant session `id` starts.
async fn starts_at_of(app: &TestApp, id: &str) -> chrono::DateTime<chrono::Utc> {
    let session = app.get(&format!("/v1/sessions/{id}")).await.expect(200);
    chrono::DateTime::parse_from_rfc3339(session.body["starts_at"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

#[actix_web::test]
async fn a_check_in_after_the_sessions_local_day_and_the_lead_are_enforced() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"check_in_lead_minutes": 30}))
        .await
        .expect(200);
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T16:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{id}/check-in");
    app.clock.set("2027-01-05T22:29:00Z".parse().unwrap()); // 15:29 local: 31 min early
    let early = app
        .post(&path, json!(null))
        .await
        .problem(422, "outside-visit-window");
    assert_eq!(early["allowed_from"], "2027-01-05T15:30:00-07:00");
    // 00:00 local the next day: too late, the visit's day is over.
    app.clock.set("2027-01-06T07:00:00Z".parse().unwrap());
    app.post(&path, json!(null))
        .await
        .problem(422, "outside-visit-window");
    app.clock.set("2027-01-06T06:59:00Z".parse().unwrap()); // 23:59 local
    app.post(&path, json!(null)).await.expect(200);
}

#[actix_web::test]
async fn no_show_is_recorded_once_the_start_has_passed() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap();
    app.clock.set("2027-01-05T17:05:00Z".parse().unwrap());
    let missed = app
        .post(&format!("/v1/sessions/{id}/no-show"), json!(null))
        .await
        .expect(200);
    assert_eq!(missed.body["status"], "no_show");
}

#[actix_web::test]
async fn reschedules_keep_the_id_and_record_old_and_new_times() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("injection", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{id}/reschedule");
    // Moving within its own old time is not an overlap with itself.
    let moved = app
        .post(
            &path,
            json!({"starts_at": "2027-01-05T10:15:00-07:00", "reason": "traffic"}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["id"], id.as_str());
    assert_eq!(moved.body["starts_at"], "2027-01-05T10:15:00-07:00");
    assert_eq!(moved.header("etag"), Some("\"2\""));
    let moved = app
        .send(
            Method::POST,
            &path,
            Some(json!({"starts_at": "2027-01-07T14:00:00-07:00"})),
            &[("if-match", "\"2\"")],
        )
        .await
        .expect(200);
    assert_eq!(moved.body["starts_at"], "2027-01-07T14:00:00-07:00");
    app.send(
        Method::POST,
        &path,
        Some(json!({"starts_at": "2027-01-07T15:00:00-07:00"})),
        &[("if-match", "\"2\"")],
    )
    .await
    .problem(412, "precondition-failed");
    app.post(&path, json!({"starts_at": "2027-01-07T20:00:00-07:00"}))
        .await
        .problem(422, "outside-working-hours");
    app.post(&path, json!({"starts_at": "2027-01-07T14:00:00"}))
        .await
        .problem(422, "time-without-offset");

    let history = app
        .get(&format!("/v1/sessions/{id}/history"))
        .await
        .expect(200);
    let items = history.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["action"], "rescheduled");
    // In the location's zone, like the session itself.
    assert_eq!(items[1]["old_starts_at"], "2027-01-05T10:00:00-07:00");
    assert_eq!(items[1]["new_starts_at"], "2027-01-05T10:15:00-07:00");
    assert_eq!(items[1]["reason"], "traffic");
    assert_eq!(items[2]["old_starts_at"], "2027-01-05T10:15:00-07:00");
    assert!(
        items[2]["occurred_at"]
            .as_str()
            .unwrap()
            .ends_with("-07:00")
    );
    assert!(items[2]["key_id"].is_string());
}

#[actix_web::test]
async fn idempotency_keys_replay_and_refuse_other_bodies() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let key = [("idempotency-key", "booking-123")];
    let body = c.booking("injection", "2027-01-05T10:00:00-07:00");
    let first = app
        .send(Method::POST, "/v1/sessions", Some(body.clone()), &key)
        .await
        .expect(201);
    let again = app
        .send(Method::POST, "/v1/sessions", Some(body.clone()), &key)
        .await
        .expect(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let mut other = body.clone();
    other["starts_at"] = json!("2027-01-05T11:00:00-07:00");
    app.send(Method::POST, "/v1/sessions", Some(other), &key)
        .await
        .problem(422, "idempotency-key-reused");
    // Keys are scoped to the API key: another key may use the same value.
    let staff = app.key(Role::Staff, None).await;
    let mut later = body;
    later["starts_at"] = json!("2027-01-05T12:00:00-07:00");
    app.send_as(
        Some(&staff),
        Method::POST,
        "/v1/sessions",
        Some(later),
        &key,
    )
    .await
    .expect(201);
    let sessions = app.get("/v1/sessions").await.expect(200);
    assert_eq!(sessions.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn lists_filter_order_by_start_and_page() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    for start in [
        "2027-01-07T10:00:00-07:00",
        "2027-01-05T10:00:00-07:00",
        "2027-01-06T10:00:00-07:00",
    ] {
        app.post("/v1/sessions", c.booking("follow_up", start))
            .await
            .expect(201);
    }
    let first = app.get("/v1/sessions?limit=2").await.expect(200);
    let starts: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        ["2027-01-05T10:00:00-07:00", "2027-01-06T10:00:00-07:00"]
    );
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/v1/sessions?limit=2&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(
        second.body["items"][0]["starts_at"],
        "2027-01-07T10:00:00-07:00"
    );
    assert_eq!(second.body["next_cursor"], Value::Null);
    let filtered = app
        .get(&format!(
            "/v1/sessions?provider_id={}&from=2027-01-06T00:00:00Z&to=2027-01-07T00:00:00Z",
            c.provider
        ))
        .await
        .expect(200);
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/v1/sessions?status=done").await.invalid_fields(),
        ["status"]
    );
    assert_eq!(
        app.get("/v1/sessions?cursor=zzz").await.invalid_fields(),
        ["cursor"]
    );
}

#[actix_web::test]
async fn providers_see_and_complete_only_their_own_sessions() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("injection", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap();
    let own = app.key(Role::Provider, Some(&c.provider)).await;
    let stranger_id = app.provider(&[], &[&c.location]).await;
    let stranger = app.key(Role::Provider, Some(&stranger_id)).await;
    app.send_as(
        Some(&own),
        Method::GET,
        &format!("/v1/sessions/{id}"),
        None,
        &[],
    )
    .await
    .expect(200);
    app.send_as(
        Some(&own),
        Method::GET,
        &format!("/v1/patients/{}", c.patient),
        None,
        &[],
    )
    .await
    .expect(200);
    app.send_as(
        Some(&stranger),
        Method::GET,
        &format!("/v1/sessions/{id}"),
        None,
        &[],
    )
    .await
    .problem(404, "not-found");
    app.send_as(
        Some(&stranger),
        Method::GET,
        &format!("/v1/patients/{}", c.patient),
        None,
        &[],
    )
    .await
    .problem(404, "not-found");
    let listed = app
        .send_as(Some(&stranger), Method::GET, "/v1/sessions", None, &[])
        .await
        .expect(200);
    assert!(listed.body["items"].as_array().unwrap().is_empty());
    app.clock.set(starts_at_of(&app, id).await);
    app.post(&format!("/v1/sessions/{id}/check-in"), json!(null))
        .await
        .expect(200);
    let record = json!({"pain_before": 5, "pain_after": 2});
    app.send_as(
        Some(&stranger),
        Method::POST,
        &format!("/v1/sessions/{id}/complete"),
        Some(record.clone()),
        &[],
    )
    .await
    .problem(404, "not-found");
    app.send_as(
        Some(&own),
        Method::POST,
        &format!("/v1/sessions/{id}/complete"),
        Some(record),
        &[],
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn session_changes_and_reads_are_audited_with_the_patient() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("injection", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap();
    app.get(&format!("/v1/sessions/{id}")).await.expect(200);
    app.post(&format!("/v1/sessions/{id}/confirm"), json!(null))
        .await
        .expect(200);
    let events = app
        .get(&format!(
            "/v1/audit-events?patient_id={}&resource_type=sessions",
            c.patient
        ))
        .await
        .expect(200);
    let actions: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["session.book", "session.read", "session.confirmed"]
    );
}

#[actix_web::test]
async fn a_providers_day_shows_sessions_and_free_gaps() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    app.post(
        "/v1/sessions",
        c.booking("injection", "2027-01-05T10:00:00-07:00"),
    )
    .await
    .expect(201);
    let cancelled = app
        .post(
            "/v1/sessions",
            c.booking("follow_up", "2027-01-05T14:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = cancelled.body["id"].as_str().unwrap();
    app.post(
        &format!("/v1/sessions/{id}/cancel"),
        json!({"reason_code": "other"}),
    )
    .await
    .expect(200);
    let day = app
        .get(&format!(
            "/v1/providers/{}/schedule?date=2027-01-05",
            c.provider
        ))
        .await
        .expect(200);
    assert_eq!(day.body["sessions"].as_array().unwrap().len(), 2);
    let free: Vec<(&str, &str)> = day.body["free"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["starts_at"].as_str().unwrap(),
                g["ends_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        free,
        [
            ("2027-01-05T08:00:00-07:00", "2027-01-05T10:00:00-07:00"),
            ("2027-01-05T10:40:00-07:00", "2027-01-05T17:00:00-07:00"),
        ]
    );
    let saturday = app
        .get(&format!(
            "/v1/providers/{}/schedule?date=2027-01-09",
            c.provider
        ))
        .await
        .expect(200);
    assert!(saturday.body["free"].as_array().unwrap().is_empty());
    let other = app.provider(&[], &[&c.location]).await;
    let key = app.key(Role::Provider, Some(&other)).await;
    let path = format!("/v1/providers/{}/schedule?date=2027-01-05", c.provider);
    app.send_as(Some(&key), Method::GET, &path, None, &[])
        .await
        .problem(404, "not-found");
}

#[actix_web::test]
async fn idempotency_keys_are_forgotten_after_two_days_not_before() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let key = [("idempotency-key", "old-key")];
    let body = c.booking("injection", "2027-01-05T10:00:00-07:00");
    app.send(Method::POST, "/v1/sessions", Some(body), &key)
        .await
        .expect(201);
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    let purge = prolo_scheduler::http::idempotency::purge_expired;
    assert_eq!(
        purge(&mut conn, app.now() + chrono::Duration::hours(47))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        purge(&mut conn, app.now() + chrono::Duration::hours(49))
            .await
            .unwrap(),
        1
    );
}
