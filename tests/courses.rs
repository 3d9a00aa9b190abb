use serde_json::{Value, json};

use crate::sessions::new_patient;
use crate::support::TestApp;

/// A New York knee provider working weekdays 08:00–17:00; the horizon covers 2027.
struct Setup {
    location: String,
    area: String,
    provider: String,
    patient: String,
}

async fn setup(app: &TestApp) -> Setup {
    let location = app.location("Manhattan", "America/New_York").await;
    let area = app.treatment_area("knee").await;
    let provider = app.provider(&[&area], &[&location]).await;
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    app.weekly_hours(&provider, &location, &days, ("08:00", "17:00"))
        .await;
    app.patch("/v1/settings", "*", json!({"booking_horizon_days": 365}))
        .await
        .expect(200);
    let patient = new_patient(app, "course@example.com").await;
    Setup {
        location,
        area,
        provider,
        patient,
    }
}

fn weekly(s: &Setup, sessions: u32) -> Value {
    json!({"patient_id": s.patient, "treatment_area_id": s.area, "location_id": s.location,
           "sessions": sessions, "interval_days": {"min": 5, "target": 7, "max": 10},
           "first_starts_at": "2027-10-25T09:00:00-04:00"})
}

fn starts(sessions: &Value) -> Vec<String> {
    sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_weekly_nine_oclock_course_keeps_nine_local_across_the_dst_change() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let plan = app
        .post("/v1/courses/plan", weekly(&s, 4))
        .await
        .expect(200);
    assert_eq!(plan.body["provider_id"], s.provider.as_str());
    assert_eq!(
        starts(&plan.body["sessions"]),
        [
            "2027-10-25T09:00:00-04:00",
            "2027-11-01T09:00:00-04:00",
            "2027-11-08T09:00:00-05:00",
            "2027-11-15T09:00:00-05:00"
        ]
    );
    assert!(plan.body["unplaced"].as_array().unwrap().is_empty());
    // Planning wrote nothing.
    assert!(
        app.get("/v1/sessions").await.expect(200).body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn unplaceable_sessions_are_reported_with_the_rest_of_the_plan() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    // Away for the whole window of session 4 (days 5 to 10 after 2027-11-08).
    let away =
        json!({"starts_at": "2027-11-12T00:00:00-05:00", "ends_at": "2027-11-19T00:00:00-05:00"});
    app.post(&format!("/v1/providers/{}/time-off", s.provider), away)
        .await
        .expect(201);
    let plan = app
        .post("/v1/courses/plan", weekly(&s, 6))
        .await
        .expect(200);
    assert_eq!(plan.body["unplaced"][0]["number"], 4);
    assert_eq!(plan.body["sessions"].as_array().unwrap().len(), 5);

    // Booking such a course is refused whole, naming session 4; nothing is written.
    let mut course = weekly(&s, 6);
    course["side"] = json!("left");
    course["book"] = json!(true);
    let refused = app
        .post("/v1/courses", course)
        .await
        .problem(422, "course-not-plannable");
    assert!(refused["detail"].as_str().unwrap().contains("4 ("));
    assert!(
        app.get("/v1/sessions").await.expect(200).body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        app.get("/v1/courses").await.expect(200).body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn a_booked_course_holds_its_sessions_and_shows_progress() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 3);
    course["side"] = json!("right");
    course["baseline_pain"] = json!(8);
    course["goal"] = json!("Walk without a brace");
    course["book"] = json!(true);
    let created = app
        .send(
            actix_web::http::Method::POST,
            "/v1/courses",
            Some(course.clone()),
            &[("idempotency-key", "course-1")],
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "active");
    let sessions = created.body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 3);
    let numbers: Vec<i64> = sessions
        .iter()
        .map(|s| s["course_number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(created.body["progress"]["scheduled"], 3);
    assert_eq!(created.body["progress"]["remaining"], 0);
    let replay = app
        .send(
            actix_web::http::Method::POST,
            "/v1/courses",
            Some(course),
            &[("idempotency-key", "course-1")],
        )
        .await
        .expect(201);
    assert_eq!(replay.body["id"], id.as_str());

    // The booked sessions block the provider: the same course cannot be booked twice.
    let other = new_patient(&app, "other@example.com").await;
    let mut clash = weekly(&s, 1);
    clash["patient_id"] = json!(other);
    clash["side"] = json!("none");
    clash["book"] = json!(true);
    app.post("/v1/courses", clash)
        .await
        .problem(422, "course-not-plannable");

    // Complete the first two with pain scores.
    for (session, (before, after)) in sessions.iter().zip([(7, 5), (5, 3)]) {
        let sid = session["id"].as_str().unwrap();
        app.clock.set(
            session["starts_at"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
        );
        app.post(&format!("/v1/sessions/{sid}/check-in"), json!(null))
            .await
            .expect(200);
        let record = json!({"pain_before": before, "pain_after": after,
                            "adverse_events": [{"kind": "injection_site_pain", "severity": "mild"}]});
        app.post(&format!("/v1/sessions/{sid}/complete"), record)
            .await
            .expect(200);
    }
    let read = app.get(&format!("/v1/courses/{id}")).await.expect(200);
    let progress = &read.body["progress"];
    assert_eq!(
        (
            progress["completed"].as_i64(),
            progress["scheduled"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(progress["pain"]["latest"], 3);
    assert_eq!(progress["pain"]["change_points"], -5);
    assert_eq!(progress["pain"]["change_percent"], -62.5);
    assert_eq!(progress["adverse_events"], 2);
    assert_eq!(progress["next_session"]["number"], 3);
    // Written in the course location's zone, like its sessions.
    assert_eq!(
        progress["next_session"]["starts_at"],
        sessions[2]["starts_at"]
    );
    assert!(
        read.body["created_at"]
            .as_str()
            .unwrap()
            .ends_with("-05:00")
    );
    assert_eq!(progress["days_since_start"], 7);
    // Session lists carry the clinical record, as a single session does.
    let listed_sessions = app
        .get(&format!("/v1/sessions?course_id={id}"))
        .await
        .expect(200);
    assert_eq!(
        listed_sessions.body["items"][1]["clinical_record"]["pain_after"],
        3
    );
    assert_eq!(
        listed_sessions.body["items"][2]["clinical_record"],
        serde_json::Value::Null
    );
    let listed = app
        .get(&format!("/v1/courses?patient_id={}", s.patient))
        .await
        .expect(200);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
}

#[actix_web::test]
async fn course_input_is_validated() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut bad = weekly(&s, 0);
    bad["interval_days"] = json!({"min": 10, "max": 5});
    let mut fields = app.post("/v1/courses/plan", bad).await.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["interval_days.max", "sessions"]);
    let mut naive = weekly(&s, 2);
    naive["first_starts_at"] = json!("2027-10-25T09:00:00");
    app.post("/v1/courses/plan", naive)
        .await
        .problem(422, "time-without-offset");
    let mut no_side = weekly(&s, 2);
    no_side["book"] = json!(true);
    assert_eq!(
        app.post("/v1/courses", no_side).await.invalid_fields(),
        ["side"]
    );
    // The assessment a course cites must be an assessment of its patient (was a 500).
    let mut course = weekly(&s, 2);
    course["side"] = json!("left");
    course["book"] = json!(true);
    course["assessment_session_id"] = json!("01a231af-2010-702d-b8e1-c9fcb005052d");
    assert_eq!(
        app.post("/v1/courses", course.clone()).await.broken_rules(),
        ["assessment_session_id"]
    );
    course["assessment_session_id"] = json!(null);
    let booked = app.post("/v1/courses", course.clone()).await.expect(201);
    let injection = booked.body["sessions"][0]["id"].clone();
    course["assessment_session_id"] = injection;
    course["first_starts_at"] = json!("2027-11-29T09:00:00-05:00");
    let refused = app.post("/v1/courses", course).await;
    assert_eq!(
        refused.body["errors"][0]["message"],
        "is not an assessment session"
    );
    assert_eq!(refused.broken_rules(), ["assessment_session_id"]);
}

#[actix_web::test]
async fn sessions_added_later_are_numbered_and_the_last_completion_completes_the_course() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 2);
    course["side"] = json!("bilateral");
    let created = app.post("/v1/courses", course).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "planned");
    let booking = |start: &str| {
        json!({"patient_id": s.patient, "provider_id": s.provider, "location_id": s.location,
               "treatment_area_id": s.area, "kind": "injection", "starts_at": start, "course_id": id})
    };
    let first = app
        .post("/v1/sessions", booking("2027-10-25T09:00:00-04:00"))
        .await
        .expect(201);
    assert_eq!(first.body["course_number"], 1);
    let second = app
        .post("/v1/sessions", booking("2027-11-01T09:00:00-04:00"))
        .await
        .expect(201);
    assert_eq!(second.body["course_number"], 2);
    app.post("/v1/sessions", booking("2027-11-08T09:00:00-05:00"))
        .await
        .problem(422, "course-not-plannable");
    assert_eq!(
        app.get(&format!("/v1/courses/{id}")).await.body["status"],
        "active"
    );

    for session in [&first, &second] {
        let sid = session.body["id"].as_str().unwrap();
        app.clock.set(
            session.body["starts_at"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
        );
        app.post(&format!("/v1/sessions/{sid}/check-in"), json!(null))
            .await
            .expect(200);
        app.post(
            &format!("/v1/sessions/{sid}/complete"),
            json!({"pain_before": 6, "pain_after": 4}),
        )
        .await
        .expect(200);
    }
    let done = app.get(&format!("/v1/courses/{id}")).await.expect(200);
    assert_eq!(done.body["status"], "completed");
    let (log, _) = crate::events::read_all(&app, "0").await;
    let course_events: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e["subject"]["id"] == id.as_str())
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        course_events,
        [
            ("course.created", "planned"),
            ("course.status_changed", "active"),
            ("course.completed", "completed")
        ]
    );
    app.post(
        &format!("/v1/courses/{id}/status"),
        json!({"status": "active"}),
    )
    .await
    .problem(409, "invalid-transition");
    let all = app
        .get(&format!("/v1/patients/{}/courses", s.patient))
        .await
        .expect(200);
    assert_eq!(all.body[0]["progress"]["completed"], 2);
}

#[actix_web::test]
async fn cancelling_a_course_cancels_its_future_sessions_with_one_reason() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 3);
    course["side"] = json!("left");
    course["book"] = json!(true);
    let created = app.post("/v1/courses", course).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let held = app
        .post(
            &format!("/v1/courses/{id}/status"),
            json!({"status": "on_hold", "reason": "travel"}),
        )
        .await
        .expect(200);
    assert_eq!(held.body["status"], "on_hold");
    let cancelled = app
        .post(
            &format!("/v1/courses/{id}/cancel"),
            json!({"reason_code": "feeling_better", "note": "pain gone"}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled.body["status"], "discontinued");
    let statuses: Vec<&str> = cancelled.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["cancelled"; 3]);
    assert_eq!(
        cancelled.body["sessions"][0]["cancel_reason"],
        "feeling_better"
    );
    // The provider's time is free again at once.
    let free = app
        .post("/v1/courses/plan", weekly(&s, 1))
        .await
        .expect(200);
    assert_eq!(
        free.body["sessions"][0]["starts_at"],
        "2027-10-25T09:00:00-04:00"
    );
    app.post(
        &format!("/v1/courses/{id}/cancel"),
        json!({"reason_code": "other"}),
    )
    .await
    .problem(409, "invalid-transition");
}

#[actix_web::test]
async fn a_move_that_breaks_the_window_is_refused_unless_forced() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 3);
    course["side"] = json!("left");
    course["book"] = json!(true);
    let created = app.post("/v1/courses", course).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let second = created.body["sessions"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/sessions/{second}/reschedule");
    // Two days later still keeps both windows (9 days after #1, 5 before #3).
    app.post(&path, json!({"starts_at": "2027-11-03T09:00:00-04:00"}))
        .await
        .expect(200);
    // Four days later: #3 would come 3 days after it.
    let refused = app
        .post(&path, json!({"starts_at": "2027-11-05T09:00:00-04:00"}))
        .await
        .problem(422, "course-window-broken");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("session 3 would be 3 days after session 2")
    );
    let forced = app
        .post(
            &path,
            json!({"starts_at": "2027-11-05T09:00:00-04:00", "force": true}),
        )
        .await
        .expect(200);
    assert_eq!(forced.body["starts_at"], "2027-11-05T09:00:00-04:00");
    let read = app.get(&format!("/v1/courses/{id}")).await.expect(200);
    assert!(
        read.body["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("session 3")
    );
}

#[actix_web::test]
async fn extending_a_course_plans_after_its_last_session() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 2);
    course["side"] = json!("right");
    course["book"] = json!(true);
    let created = app.post("/v1/courses", course).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let extended = app
        .post(&format!("/v1/courses/{id}/extend"), json!({"sessions": 2}))
        .await
        .expect(200);
    assert_eq!(extended.body["planned_sessions"], 4);
    let sessions = extended.body["sessions"].as_array().unwrap();
    let numbered: Vec<(i64, &str)> = sessions
        .iter()
        .map(|s| {
            (
                s["course_number"].as_i64().unwrap(),
                s["starts_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        numbered,
        [
            (1, "2027-10-25T09:00:00-04:00"),
            (2, "2027-11-01T09:00:00-04:00"),
            (3, "2027-11-08T09:00:00-05:00"),
            (4, "2027-11-15T09:00:00-05:00"),
        ]
    );
    assert_eq!(
        app.post(&format!("/v1/courses/{id}/extend"), json!({"sessions": 0}))
            .await
            .invalid_fields(),
        ["sessions"]
    );
}

#[actix_web::test]
async fn courses_are_updated_with_if_match() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 2);
    course["side"] = json!("left");
    let created = app.post("/v1/courses", course).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/courses/{id}");
    let etag = created.header("etag").unwrap().to_owned();
    let changes =
        json!({"goal": "Run again", "baseline_pain": 6, "interval_days": {"min": 14, "max": 28}});
    let updated = app.patch(&path, &etag, changes.clone()).await.expect(200);
    assert_eq!(updated.body["goal"], "Run again");
    assert_eq!(
        updated.body["interval_days"],
        json!({"min": 14, "target": null, "max": 28})
    );
    app.patch(&path, &etag, changes)
        .await
        .problem(412, "precondition-failed");
    assert_eq!(
        app.patch(&path, "*", json!({"baseline_pain": 11}))
            .await
            .invalid_fields(),
        ["baseline_pain"]
    );
    let missing = app
        .send(
            actix_web::http::Method::PATCH,
            &path,
            Some(json!({"goal": null})),
            &[],
        )
        .await;
    missing.problem(428, "precondition-required");
}

#[actix_web::test]
async fn moving_a_session_with_cascade_replans_the_rest_within_every_window() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    let mut course = weekly(&s, 3);
    course["interval_days"] = json!({"min": 21, "target": 28, "max": 42});
    course["side"] = json!("left");
    course["book"] = json!(true);
    let created = app.post("/v1/courses", course).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        starts(&created.body["sessions"]),
        [
            "2027-10-25T09:00:00-04:00",
            "2027-11-22T09:00:00-05:00",
            "2027-12-20T09:00:00-05:00"
        ]
    );
    let second = created.body["sessions"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/sessions/{second}/reschedule");
    let later = json!({"starts_at": "2027-12-02T09:00:00-05:00"});
    app.post(&path, later.clone())
        .await
        .problem(422, "course-window-broken");
    let mut cascade = later;
    cascade["cascade"] = json!(true);
    app.post(&path, cascade).await.expect(200);
    let read = app.get(&format!("/v1/courses/{id}")).await.expect(200);
    let moved = starts(&read.body["sessions"]);
    assert_eq!(
        moved,
        [
            "2027-10-25T09:00:00-04:00",
            "2027-12-02T09:00:00-05:00",
            "2027-12-30T09:00:00-05:00"
        ]
    );
    let third = read.body["sessions"][2]["id"].as_str().unwrap();
    let history = app
        .get(&format!("/v1/sessions/{third}/history"))
        .await
        .expect(200);
    assert_eq!(history.body["items"][1]["reason"], "moved with session 2");
}

#[actix_web::test]
async fn the_first_injection_follows_the_assessment_by_the_areas_gap() {
    let app = TestApp::new().await;
    let s = setup(&app).await;
    // The assessment is Tuesday 08:00 in New York; without the gap the planner's earliest
    // slot would be the same morning, right after it.
    let assessment = json!({"patient_id": s.patient, "provider_id": s.provider,
        "location_id": s.location, "treatment_area_id": s.area, "kind": "assessment",
        "starts_at": "2027-01-05T08:00:00-05:00"});
    app.post("/v1/sessions", assessment).await.expect(201);
    let mut course = weekly(&s, 2);
    course.as_object_mut().unwrap().remove("first_starts_at");
    let plan = app
        .post("/v1/courses/plan", course.clone())
        .await
        .expect(200);
    assert_eq!(
        starts(&plan.body["sessions"])[0],
        "2027-01-06T08:00:00-05:00",
        "the day after the assessment (the default gap of one day)"
    );
    // A longer gap for the area moves it further.
    let area = app.get(&format!("/v1/treatment-areas/{}", s.area)).await;
    assert_eq!(area.body["assessment_gap_days"], 1);
    let etag = area.header("etag").unwrap().to_owned();
    app.patch(
        &format!("/v1/treatment-areas/{}", s.area),
        &etag,
        json!({"assessment_gap_days": 3}),
    )
    .await
    .expect(200);
    let plan = app
        .post("/v1/courses/plan", course.clone())
        .await
        .expect(200);
    assert_eq!(
        starts(&plan.body["sessions"])[0],
        "2027-01-08T08:00:00-05:00"
    );
    // A first start the front desk chose inside the gap is refused with the reason.
    course["first_starts_at"] = json!("2027-01-05T13:00:00-05:00");
    let plan = app.post("/v1/courses/plan", course).await.expect(200);
    let reason = plan.body["unplaced"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("assessment"), "{reason}");
}
