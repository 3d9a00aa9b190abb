//! Holds: a slot kept for a visitor is out of availability and out of every booking's reach
//! until it expires by the clock; limits per client; the booking page's availability.

use actix_web::http::Method;
use chrono::Duration;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::clinic::{Clinic, clinic};

/// The client most tests hold from.
pub const VISITOR: &str = "198.51.100.7";

pub fn slot(c: &Clinic, starts_at: &str) -> Value {
    json!({"provider_id": c.provider, "location_id": c.location, "treatment_area_id": c.area,
           "kind": "assessment", "starts_at": starts_at})
}

/// Holds `starts_at` from `ip`; the answer must be 201.
pub async fn hold(app: &TestApp, ip: &str, c: &Clinic, starts_at: &str) -> Value {
    app.send_from(ip, Method::POST, "/v1/holds", Some(slot(c, starts_at)))
        .await
        .expect(201)
        .body
}

/// The starts offered for the Denver Tuesday 2027-01-05.
pub async fn tuesday_starts(app: &TestApp, c: &Clinic) -> Vec<String> {
    let path = format!(
        "/v1/availability?treatment_area_id={}&kind=assessment&from=2027-01-05&to=2027-01-05",
        c.area
    );
    app.send_from(VISITOR, Method::GET, &path, None)
        .await
        .expect(200)
        .body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_live_hold_takes_its_slot_from_availability_and_from_staff_bookings() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let before = tuesday_starts(&app, &c).await;
    assert!(before.contains(&"2027-01-05T10:00:00-07:00".to_owned()));
    let held = hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    assert_eq!(held["token"].as_str().unwrap().len(), 64);
    assert_eq!(held["starts_at"], "2027-01-05T10:00:00-07:00");
    assert_eq!(held["ends_at"], "2027-01-05T10:45:00-07:00");
    // Ten minutes (`hold_minutes`) from 08:00 Denver.
    assert_eq!(held["expires_at"], "2027-01-04T08:10:00-07:00");
    assert_eq!(held["expires_in_seconds"], 600);
    let after = tuesday_starts(&app, &c).await;
    // The 45-minute slots overlapping 10:00–10:45 are gone: 09:30 to 10:30.
    for gone in ["09:30", "09:45", "10:00", "10:15", "10:30"] {
        assert!(
            !after.contains(&format!("2027-01-05T{gone}:00-07:00")),
            "{gone} still offered"
        );
    }
    assert!(after.contains(&"2027-01-05T10:45:00-07:00".to_owned()));
    assert_eq!(before.len() - after.len(), 5);
    // The front desk cannot book over it, nor another visitor hold it.
    let staff = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T10:15:00-07:00"),
        )
        .await
        .problem(409, "slot-taken");
    assert!(
        staff["detail"].as_str().unwrap().contains("held"),
        "{staff}"
    );
    app.send_from(
        "203.0.113.9",
        Method::POST,
        "/v1/holds",
        Some(slot(&c, "2027-01-05T10:30:00-07:00")),
    )
    .await
    .problem(409, "slot-taken");
    // A provider's day shows the held time as not free.
    let day = app
        .get(&format!(
            "/v1/providers/{}/schedule?date=2027-01-05",
            c.provider
        ))
        .await
        .expect(200);
    let free = day.body["free"].as_array().unwrap();
    assert!(
        free.iter()
            .any(|g| g["ends_at"] == "2027-01-05T10:00:00-07:00"),
        "{:#}",
        day.body
    );
}

#[actix_web::test]
async fn an_expired_hold_frees_its_slot_by_the_clock_alone() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    app.clock.set(app.now() + Duration::minutes(10));
    // Nothing swept it: the clock alone made it lapse.
    assert!(
        tuesday_starts(&app, &c)
            .await
            .contains(&"2027-01-05T10:00:00-07:00".to_owned())
    );
    app.send_from(
        "203.0.113.9",
        Method::POST,
        "/v1/holds",
        Some(slot(&c, "2027-01-05T10:15:00-07:00")),
    )
    .await
    .expect(201);
    app.clock.set(app.now() + Duration::minutes(10));
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T10:00:00-07:00"),
        )
        .await
        .expect(201);
    assert_eq!(booked.body["status"], "scheduled");
    // And a staff move onto an expired hold's time works the same way.
    hold(&app, VISITOR, &c, "2027-01-05T14:00:00-07:00").await;
    app.clock.set(app.now() + Duration::minutes(11));
    let id = booked.body["id"].as_str().unwrap();
    let etag = booked.header("etag").unwrap().to_owned();
    app.send(
        Method::POST,
        &format!("/v1/sessions/{id}/reschedule"),
        Some(json!({"starts_at": "2027-01-05T14:00:00-07:00"})),
        &[("if-match", &etag)],
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn a_client_holds_at_most_three_slots_at_once() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    for start in ["09:00", "11:00", "13:00"] {
        hold(&app, VISITOR, &c, &format!("2027-01-05T{start}:00-07:00")).await;
    }
    let fourth = slot(&c, "2027-01-05T15:00:00-07:00");
    app.send_from(VISITOR, Method::POST, "/v1/holds", Some(fourth.clone()))
        .await
        .problem(429, "too-many-holds");
    // Another client is not held back; once the first three expire, the first client may
    // hold again.
    app.send_from(
        "203.0.113.9",
        Method::POST,
        "/v1/holds",
        Some(slot(&c, "2027-01-06T09:00:00-07:00")),
    )
    .await
    .expect(201);
    app.clock.set(app.now() + Duration::minutes(10));
    app.send_from(VISITOR, Method::POST, "/v1/holds", Some(fourth))
        .await
        .expect(201);
}

#[actix_web::test]
async fn a_hold_follows_the_booking_rules() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let refuse = async |body: Value| {
        app.send_from(VISITOR, Method::POST, "/v1/holds", Some(body))
            .await
    };
    let mut injection = slot(&c, "2027-01-05T10:00:00-07:00");
    injection["kind"] = json!("injection");
    assert_eq!(refuse(injection).await.broken_rules(), ["kind"]);
    refuse(slot(&c, "2027-01-05T18:00:00-07:00"))
        .await
        .problem(422, "outside-working-hours");
    refuse(slot(&c, "2027-01-04T09:00:00-07:00"))
        .await
        .problem(422, "too-short-notice");
    assert_eq!(
        refuse(slot(&c, "2027-01-05T10:00:30-07:00"))
            .await
            .broken_rules(),
        ["starts_at"]
    );
    let mut stranger = slot(&c, "2027-01-05T10:00:00-07:00");
    stranger["provider_id"] = json!(uuid::Uuid::now_v7());
    assert_eq!(refuse(stranger).await.broken_rules(), ["provider_id"]);
    let mut extra = slot(&c, "2027-01-05T10:00:00-07:00");
    extra["patient_id"] = json!(c.patient);
    assert_eq!(refuse(extra).await.invalid_fields(), ["patient_id"]);
}

#[actix_web::test]
async fn the_month_calendar_counts_the_slots_of_each_local_day_across_dst() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    // Denver springs forward on Sunday 2027-03-14; the range spans it.
    let (from, to) = ("2027-03-08", "2027-03-21");
    let days = app
        .send_from(
            VISITOR,
            Method::GET,
            &format!(
                "/v1/availability/days?treatment_area_id={}&kind=assessment&from={from}&to={to}",
                c.area
            ),
            None,
        )
        .await
        .expect(200)
        .body;
    let days = days["days"].as_array().unwrap();
    assert_eq!(days.len(), 14);
    for day in days {
        let date = day["date"].as_str().unwrap();
        let path = format!(
            "/v1/availability?treatment_area_id={}&kind=assessment&from={date}&to={date}",
            c.area
        );
        let slots = app.get(&path).await.expect(200).body["slots"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(day["open_slots"], slots.len(), "{date}");
        match slots.first() {
            Some(first) => assert_eq!(day["first_starts_at"], first["starts_at"], "{date}"),
            None => assert!(day["first_starts_at"].is_null(), "{date}"),
        }
    }
    // Weekdays 08:00–17:00 in 15-minute steps for 45 minutes: 34 slots, before and after DST.
    assert_eq!(days[0]["open_slots"], 34);
    assert_eq!(days[8]["open_slots"], 34);
    assert_eq!(days[0]["first_starts_at"], "2027-03-08T08:00:00-07:00");
    assert_eq!(days[6]["open_slots"], 0);
    assert_eq!(days[8]["first_starts_at"], "2027-03-16T08:00:00-06:00");
    let too_long = format!(
        "/v1/availability/days?treatment_area_id={}&kind=assessment&from=2027-03-01&to=2027-06-01",
        c.area
    );
    assert_eq!(app.get(&too_long).await.broken_rules(), ["to"]);
}

#[actix_web::test]
async fn the_next_slots_come_in_order_after_the_instant_and_gzipped_on_request() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    hold(&app, VISITOR, &c, "2027-01-05T10:00:00-07:00").await;
    let path = format!(
        "/v1/availability/next?treatment_area_id={}&kind=assessment&after=2027-01-05T09:30:00-07:00&limit=4",
        c.area
    );
    let next = app.get(&path).await.expect(200).body;
    let starts: Vec<&str> = next["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    // 09:30 to 10:30 overlap the hold.
    assert_eq!(
        starts,
        [
            "2027-01-05T10:45:00-07:00",
            "2027-01-05T11:00:00-07:00",
            "2027-01-05T11:15:00-07:00",
            "2027-01-05T11:30:00-07:00"
        ]
    );
    // Friday evening: the next ones are on Monday.
    let weekend = format!(
        "/v1/availability/next?treatment_area_id={}&kind=assessment&after=2027-01-08T17:00:00-07:00",
        c.area
    );
    let monday = app.get(&weekend).await.expect(200).body;
    assert_eq!(monday["slots"].as_array().unwrap().len(), 5);
    assert_eq!(monday["slots"][0]["starts_at"], "2027-01-11T08:00:00-07:00");
    let too_many = path.replace("limit=4", "limit=21");
    assert_eq!(app.get(&too_many).await.invalid_fields(), ["limit"]);
    let calendar = format!(
        "/v1/availability/days?treatment_area_id={}&kind=assessment&from=2027-01-01&to=2027-03-31",
        c.area
    );
    let gzipped = app
        .send(Method::GET, &calendar, None, &[("accept-encoding", "gzip")])
        .await
        .expect(200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
}

#[actix_web::test]
async fn the_next_slots_are_found_weeks_ahead_when_the_weeks_before_are_taken() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    // Away from Tuesday to Friday three weeks later: the search reads three days, then six,
    // twelve and twenty-four before it meets an open day.
    let away = format!("/v1/providers/{}/time-off", c.provider);
    app.post(
        &away,
        json!({"starts_at": "2027-01-05T00:00:00-07:00", "ends_at": "2027-01-30T00:00:00-07:00"}),
    )
    .await
    .expect(201);
    let path = format!(
        "/v1/availability/next?treatment_area_id={}&kind=assessment&after=2027-01-05T00:00:00-07:00&limit=2",
        c.area
    );
    let next = app.get(&path).await.expect(200).body;
    let starts: Vec<&str> = next["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        ["2027-02-01T08:00:00-07:00", "2027-02-01T08:15:00-07:00"]
    );
}
