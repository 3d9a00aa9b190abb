//! The waitlist from the front desk: who fits which open slot, and entries created, refused,
//! changed with If-Match, listed and cancelled.

use serde_json::{Value, json};

use crate::sessions::new_patient;
use crate::support::TestApp;
use crate::support::clinic::clinic;
use crate::waitlist::{actions, book, entry, join, minutes_after_start};

#[actix_web::test]
async fn the_front_desk_sees_who_fits_each_open_slot() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    // Tuesday is full but for 09:00–09:45 (an injection and its buffer) and 15:00–17:00.
    for (start, end) in [("08:00", "09:00"), ("09:45", "15:00")] {
        app.post(
            &format!("/v1/providers/{}/time-off", c.provider),
            json!({"starts_at": format!("2027-01-05T{start}:00-07:00"), "ends_at": format!("2027-01-05T{end}:00-07:00")}),
        )
        .await
        .expect(201);
    }
    let mornings = new_patient(&app, "mornings@example.com").await;
    let mornings = join(
        &app,
        &c,
        &mornings,
        json!({"time_window": {"start": "08:00", "end": "12:00"}}),
    )
    .await;
    app.clock.set(minutes_after_start(1));
    let anytime = new_patient(&app, "anytime@example.com").await;
    let anytime = join(&app, &c, &anytime, json!({})).await;
    app.clock.set(minutes_after_start(2));
    let urgent = new_patient(&app, "urgent@example.com").await;
    let urgent = join(
        &app,
        &c,
        &urgent,
        json!({"urgent": true, "weekdays": ["tuesday"]}),
    )
    .await;
    let thursdays = new_patient(&app, "thursdays@example.com").await;
    join(&app, &c, &thursdays, json!({"weekdays": ["thursday"]})).await;
    let found = app
        .get(&format!(
            "/v1/waitlist/matches?provider_id={}&from=2027-01-05&to=2027-01-05",
            c.provider
        ))
        .await
        .expect(200)
        .body;
    let slots = found["slots"].as_array().unwrap();
    let nine = &slots[0];
    assert_eq!(nine["starts_at"], "2027-01-05T09:00:00-07:00");
    assert_eq!(nine["kind"], "injection");
    let ids: Vec<&Value> = nine["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&urgent["id"], &mornings["id"], &anytime["id"]]);
    // In the afternoon the morning patient does not fit.
    let afternoon = slots
        .iter()
        .find(|s| s["starts_at"] == "2027-01-05T15:00:00-07:00")
        .expect("a 15:00 slot");
    let ids: Vec<&Value> = afternoon["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&urgent["id"], &anytime["id"]]);
    assert!(slots.iter().all(|s| {
        let start = s["starts_at"].as_str().unwrap();
        !("2027-01-05T09:15:00-07:00".."2027-01-05T15:00:00-07:00").contains(&start)
    }));
    app.get(&format!(
        "/v1/waitlist/matches?provider_id={}&from=2027-01-05&to=2027-01-25",
        c.provider
    ))
    .await
    .problem(422, "unprocessable-values");
    // The ends of the calendar answer, and find nothing.
    for (from, to) in [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02")] {
        let found = app
            .get(&format!(
                "/v1/waitlist/matches?provider_id={}&from={from}&to={to}",
                c.provider
            ))
            .await
            .expect(200)
            .body;
        assert_eq!(found["slots"], json!([]));
    }
}

#[actix_web::test]
async fn entries_are_validated_changed_with_if_match_and_cancelled() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let other = new_patient(&app, "other@example.com").await;
    let theirs = {
        let mut body = c.booking("injection", "2027-01-12T09:00:00-07:00");
        body["patient_id"] = json!(other);
        book(&app, body).await
    };
    let base = json!({"patient_id": c.patient, "treatment_area_id": c.area, "kind": "injection"});
    let with = |extra: Value| {
        let mut body = base.clone();
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    assert_eq!(
        app.post("/v1/waitlist", with(json!({"session_id": theirs})))
            .await
            .broken_rules(),
        ["session_id"]
    );
    assert_eq!(
        app.post(
            "/v1/waitlist",
            with(json!({"latest": "2027-01-01T00:00:00Z"}))
        )
        .await
        .broken_rules(),
        ["latest"]
    );
    assert_eq!(
        app.post(
            "/v1/waitlist",
            with(json!({"time_window": {"start": "12:00", "end": "08:00"}}))
        )
        .await
        .broken_rules(),
        ["time_window"]
    );
    assert_eq!(
        app.post("/v1/waitlist", with(json!({"weekdays": ["someday"]})))
            .await
            .invalid_fields(),
        ["weekdays[0]"]
    );
    let mine = book(&app, c.booking("injection", "2027-01-19T09:00:00-07:00")).await;
    let created = app
        .post("/v1/waitlist", with(json!({"session_id": mine})))
        .await
        .expect(201);
    let etag = created.header("etag").unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["source"], "staff");
    app.post("/v1/waitlist", with(json!({"session_id": mine})))
        .await
        .problem(409, "duplicate");
    let path = format!("/v1/waitlist/{id}");
    app.patch(&path, &etag, json!({"location_id": c.location}))
        .await
        .broken_rules();
    let changed = app
        .patch(
            &path,
            &etag,
            json!({"urgent": true, "weekdays": ["tuesday", "monday", "tuesday"]}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["weekdays"], json!(["monday", "tuesday"]));
    assert_eq!(changed.body["urgent"], true);
    app.patch(&path, &etag, json!({"urgent": false}))
        .await
        .problem(412, "precondition-failed");
    let listed = app
        .get(&format!(
            "/v1/waitlist?status=waiting&patient_id={}",
            c.patient
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    app.post(&format!("{path}/cancel"), json!(null))
        .await
        .expect(200);
    app.post(&format!("{path}/cancel"), json!(null))
        .await
        .problem(409, "invalid-transition");
    let ended = entry(&app, &json!(id)).await;
    assert_eq!(ended["status"], "cancelled");
    assert_eq!(actions(&ended), ["joined", "updated", "cancelled"]);
    let none = app
        .get(&format!(
            "/v1/waitlist?status=waiting&patient_id={}",
            c.patient
        ))
        .await
        .expect(200)
        .body;
    assert!(none["items"].as_array().unwrap().is_empty());
    let events = app
        .get("/v1/events?types=waitlist_entry.created,waitlist_entry.updated,waitlist_entry.cancelled")
        .await
        .expect(200)
        .body;
    let types: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "waitlist_entry.created",
            "waitlist_entry.updated",
            "waitlist_entry.cancelled"
        ]
    );
    assert_eq!(
        events["items"][1]["data"]["fields"],
        json!(["weekdays", "urgent"])
    );
}
