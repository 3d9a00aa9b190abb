use serde_json::{Value, json};

use crate::sessions::{clinic, new_patient};
use crate::support::TestApp;
use crate::support::http::{Server, request};

/// A New York location whose provider works `start`–`end` every day; the horizon covers 2027.
async fn new_york(app: &TestApp, start: &str, end: &str) -> (String, String, String) {
    let location = app.location("Manhattan", "America/New_York").await;
    let area = app.treatment_area("knee").await;
    let provider = app.provider(&[&area], &[&location]).await;
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    app.weekly_hours(&provider, &location, &days, (start, end))
        .await;
    app.patch("/v1/settings", "*", json!({"booking_horizon_days": 365}))
        .await
        .expect(200);
    (location, area, provider)
}

/// Open slots as a browser would get them: over a socket, from the real server.
async fn slots(server: &Server, area: &str, kind: &str, from: &str, to: &str) -> Vec<Value> {
    let path = format!("/v1/availability?treatment_area_id={area}&kind={kind}&from={from}&to={to}");
    let reply = request(server.addr, "GET", &path, None, &[]).await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    reply.body["slots"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn dst_days_start_at_local_nine_with_the_usual_number_of_slots() {
    let app = TestApp::new().await;
    let (location, area, provider) = new_york(&app, "09:00", "17:00").await;
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let ordinary = slots(&server, &area, "assessment", "2027-03-10", "2027-03-10").await;
    for (day, first_utc, first_local) in [
        (
            "2027-03-14",
            "2027-03-14T13:00:00Z",
            "2027-03-14T09:00:00-04:00",
        ),
        (
            "2027-11-07",
            "2027-11-07T14:00:00Z",
            "2027-11-07T09:00:00-05:00",
        ),
    ] {
        let day_slots = slots(&server, &area, "assessment", day, day).await;
        assert_eq!(day_slots.len(), ordinary.len(), "{day}");
        assert_eq!(day_slots[0]["starts_at"], first_local, "{day}");
        let instant: chrono::DateTime<chrono::Utc> =
            day_slots[0]["starts_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            instant,
            first_utc.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
        );
    }
    // The first slot of the spring-forward day books; the same time without an offset does not.
    let patient = new_patient(&app, "dst@example.com").await;
    let auth = format!("Bearer {}", app.admin_key);
    let mut booking = json!({"patient_id": patient, "provider_id": provider, "location_id": location,
        "treatment_area_id": area, "kind": "assessment", "starts_at": "2027-03-14T09:00:00"});
    let naive = request(
        server.addr,
        "POST",
        "/v1/sessions",
        Some(&booking),
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(
        (naive.status, naive.body["type"].as_str()),
        (422, Some("/problems/time-without-offset"))
    );
    booking["starts_at"] = json!("2027-03-14T09:00:00-04:00");
    let booked = request(
        server.addr,
        "POST",
        "/v1/sessions",
        Some(&booking),
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(booked.status, 201, "{:#}", booked.body);
    assert_eq!(booked.body["starts_at"], "2027-03-14T09:00:00-04:00");
}

#[actix_web::test]
async fn night_hours_yield_their_real_length_on_transition_days() {
    let app = TestApp::new().await;
    let (_, area, _) = new_york(&app, "01:00", "04:00").await;
    app.patch("/v1/settings", "*", json!({"slot_step_minutes": 15}))
        .await
        .expect(200);
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    // 20-minute follow-ups every 15 minutes: (hours * 4) - 1 starts fit.
    let spring = slots(&server, &area, "follow_up", "2027-03-14", "2027-03-14").await;
    let fall = slots(&server, &area, "follow_up", "2027-11-07", "2027-11-07").await;
    let usual = slots(&server, &area, "follow_up", "2027-11-08", "2027-11-08").await;
    assert_eq!(spring.len(), 2 * 4 - 1, "2 hours on 2027-03-14");
    assert_eq!(fall.len(), 4 * 4 - 1, "4 hours on 2027-11-07");
    assert_eq!(usual.len(), 3 * 4 - 1);
    assert_eq!(
        spring.last().unwrap()["starts_at"],
        "2027-03-14T03:30:00-04:00"
    );
    assert_eq!(
        fall[4]["starts_at"], "2027-11-07T01:00:00-05:00",
        "the repeated hour is offered twice"
    );
}

#[actix_web::test]
async fn taken_time_notice_and_horizon_shape_the_slots() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let path = |from: &str, to: &str| {
        format!(
            "/v1/availability?treatment_area_id={}&kind=injection&from={from}&to={to}",
            c.area
        )
    };
    // Now is Monday 2027-01-04 08:00 in Denver: minimum notice (12 h) leaves nothing that day.
    let monday = app.get(&path("2027-01-04", "2027-01-04")).await.expect(200);
    assert!(monday.body["slots"].as_array().unwrap().is_empty());
    let tuesday = app.get(&path("2027-01-05", "2027-01-05")).await.expect(200);
    let before: Vec<&str> = tuesday.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(before[0], "2027-01-05T08:00:00-07:00");
    assert_eq!(before.last().copied(), Some("2027-01-05T16:30:00-07:00"));
    app.post(
        "/v1/sessions",
        c.booking("injection", "2027-01-05T10:00:00-07:00"),
    )
    .await
    .expect(201);
    let after = app.get(&path("2027-01-05", "2027-01-05")).await.expect(200);
    let starts: Vec<&str> = after.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    // 10:00–10:30 plus a 10-minute buffer: 09:30 (until 10:10 with its own buffer) and 10:15 go.
    assert!(starts.contains(&"2027-01-05T09:15:00-07:00"));
    assert!(!starts.contains(&"2027-01-05T09:30:00-07:00"));
    assert!(!starts.contains(&"2027-01-05T10:30:00-07:00"));
    assert!(starts.contains(&"2027-01-05T10:45:00-07:00"));
    // Every slot offered can be booked.
    let other = new_patient(&app, "sam@example.com").await;
    let mut booking = c.booking("injection", starts[3]);
    booking["patient_id"] = json!(other);
    app.post("/v1/sessions", booking).await.expect(201);
    // Past the 180-day horizon nothing is offered.
    let far = app.get(&path("2027-07-10", "2027-07-12")).await.expect(200);
    assert!(far.body["slots"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn availability_input_is_checked() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let base = format!(
        "/v1/availability?treatment_area_id={}&kind=injection",
        c.area
    );
    assert_eq!(
        app.get(&format!("{base}&from=2027-01-01&to=2027-03-04"))
            .await
            .broken_rules(),
        ["to"]
    );
    app.get(&format!("{base}&from=2027-01-01&to=2027-03-03"))
        .await
        .expect(200);
    assert_eq!(
        app.get(&format!("{base}&from=2027-01-10&to=2027-01-01"))
            .await
            .broken_rules(),
        ["to"]
    );
    assert_eq!(
        app.get(&format!("{base}&from=2027-1-1&to=2027-01-02"))
            .await
            .invalid_fields(),
        ["from"]
    );
    let wrong_kind = format!(
        "/v1/availability?treatment_area_id={}&kind=massage&from=2027-01-05&to=2027-01-05",
        c.area
    );
    assert_eq!(app.get(&wrong_kind).await.invalid_fields(), ["kind"]);
    let ghost = format!(
        "/v1/availability?treatment_area_id={}&kind=injection&from=2027-01-05&to=2027-01-05",
        uuid::Uuid::now_v7()
    );
    assert_eq!(app.get(&ghost).await.broken_rules(), ["treatment_area_id"]);
    let narrowed = app
        .get(&format!(
            "{base}&from=2027-01-05&to=2027-01-05&provider_id={}",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert!(
        narrowed.expect(200).body["slots"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn an_archived_area_has_no_availability_but_says_why() {
    let app = TestApp::new().await;
    let area = app.treatment_area("knee").await;
    app.post(&format!("/v1/treatment-areas/{area}/archive"), json!(null))
        .await
        .expect(200);
    let path = format!(
        "/v1/availability?treatment_area_id={area}&kind=injection&from=2027-01-05&to=2027-01-06"
    );
    app.get(&path).await.problem(422, "inactive-record");
}
