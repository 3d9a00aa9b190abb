//! Rooms and devices: the catalog, what areas require, allocation on every booking path, and
//! search that offers only what can be booked.

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::clinic::{Clinic, clinic, new_patient};

/// The Denver clinic with a second provider, two procedure rooms and one ultrasound, and knee
/// injections that need a room and the ultrasound.
pub struct Guided {
    pub c: Clinic,
    pub second: String,
    pub rooms: [String; 2],
    pub ultrasound: String,
}

pub async fn resource(
    app: &TestApp,
    location: &str,
    kind: &str,
    name: &str,
    tags: &[&str],
) -> String {
    let body = json!({"location_id": location, "kind": kind, "name": name, "tags": tags});
    app.post("/v1/resources", body).await.expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn require(app: &TestApp, area: &str, requirements: Value) -> Value {
    let path = format!("/v1/treatment-areas/{area}");
    app.patch(&path, "*", json!({"requirements": requirements}))
        .await
        .expect(200)
        .body
}

pub async fn guided(app: &TestApp) -> Guided {
    let c = clinic(app).await;
    let second = app.provider(&[&c.area], &[&c.location]).await;
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    app.weekly_hours(&second, &c.location, &days, ("08:00", "17:00"))
        .await;
    let rooms = [
        resource(app, &c.location, "room", "Room B", &["procedure-room"]).await,
        resource(app, &c.location, "room", "Room A", &["procedure-room"]).await,
    ];
    let ultrasound = resource(app, &c.location, "device", "Ultrasound 1", &["ultrasound"]).await;
    require(
        app,
        &c.area,
        json!({"injection": ["procedure-room", "ultrasound"]}),
    )
    .await;
    Guided {
        c,
        second,
        rooms,
        ultrasound,
    }
}

fn resource_names(session: &Value) -> Vec<String> {
    let mut names: Vec<String> = session["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn book_for(
    app: &TestApp,
    g: &Guided,
    provider: &str,
    email: &str,
    at: &str,
) -> crate::support::Reply {
    let patient = new_patient(app, email).await;
    let mut body = g.c.booking("injection", at);
    body["patient_id"] = json!(patient);
    body["provider_id"] = json!(provider);
    app.post("/v1/sessions", body).await
}

#[actix_web::test]
async fn resources_are_created_listed_changed_and_archived() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let other = app.location("Boulder", "America/Denver").await;
    let body = json!({"location_id": c.location, "kind": "device", "name": "Ultrasound 1", "tags": ["ultrasound"]});
    let created = app.post("/v1/resources", body.clone()).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/resources/{id}").as_str())
    );
    assert_eq!(created.body["active"], true);
    app.post("/v1/resources", body)
        .await
        .problem(409, "duplicate");
    resource(
        &app,
        &c.location,
        "room",
        "Room 1",
        &["procedure-room", "consult-room"],
    )
    .await;
    resource(&app, &other, "room", "Room 1", &["procedure-room"]).await;

    let count =
        |reply: crate::support::Reply| reply.expect(200).body["items"].as_array().unwrap().len();
    assert_eq!(count(app.get("/v1/resources").await), 3);
    let here = format!("/v1/resources?location_id={}", c.location);
    assert_eq!(count(app.get(&here).await), 2);
    assert_eq!(count(app.get("/v1/resources?kind=device").await), 1);
    assert_eq!(count(app.get("/v1/resources?tag=procedure-room").await), 2);

    let path = format!("/v1/resources/{id}");
    let etag = app
        .get(&path)
        .await
        .expect(200)
        .header("etag")
        .unwrap()
        .to_owned();
    let changed = app
        .patch(
            &path,
            &etag,
            json!({"name": "Ultrasound 1 (portable)", "tags": ["ultrasound", "portable"]}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["tags"], json!(["ultrasound", "portable"]));
    app.patch(&path, &etag, json!({"name": "Again"}))
        .await
        .problem(412, "precondition-failed");
    let archived = app
        .post(&format!("{path}/archive"), json!({}))
        .await
        .expect(200);
    assert_eq!(archived.body["active"], false);
    assert_eq!(count(app.get("/v1/resources?active=false").await), 1);

    let bad = json!({"location_id": c.location, "kind": "robot", "name": "", "tags": ["Ultra Sound", "x"]});
    let mut fields = app.post("/v1/resources", bad).await.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["kind"]);
    let bad =
        json!({"location_id": c.location, "kind": "room", "name": "", "tags": ["Ultra Sound"]});
    let mut fields = app.post("/v1/resources", bad).await.invalid_fields();
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["name", "tags"]);
    // A tag named twice counts once.
    let twice =
        json!({"location_id": c.location, "kind": "room", "name": "R", "tags": ["a", "b", "a"]});
    let created = app.post("/v1/resources", twice).await.expect(201);
    assert_eq!(created.body["tags"], json!(["a", "b"]));
    let nowhere =
        json!({"location_id": uuid::Uuid::now_v7(), "kind": "room", "name": "R", "tags": ["a"]});
    assert_eq!(
        app.post("/v1/resources", nowhere).await.broken_rules(),
        ["location_id"]
    );
}

#[actix_web::test]
async fn a_requirement_nothing_can_meet_is_refused_naming_the_tag_and_the_location() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let path = format!("/v1/treatment-areas/{}", c.area);
    let area = app.get(&path).await.expect(200);
    assert_eq!(
        area.body["requirements"],
        json!({"assessment": [], "injection": [], "follow_up": []})
    );
    let needs = json!({"requirements": {"injection": ["procedure-room", "ultrasound"]}});
    let refused = app.patch(&path, "*", needs.clone()).await;
    let body = refused.problem(422, "unprocessable-values");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["requirements.injection[0]", "requirements.injection[1]"]
    );
    assert!(
        body["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("`ultrasound`")
    );

    // An ultrasound elsewhere is not one here, where the area is booked.
    let boulder = app.location("Boulder", "America/Denver").await;
    resource(&app, &boulder, "device", "Ultrasound 1", &["ultrasound"]).await;
    resource(&app, &boulder, "room", "Room 1", &["procedure-room"]).await;
    let body = app
        .patch(&path, "*", needs.clone())
        .await
        .problem(422, "unprocessable-values");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&c.location) && message.contains("Denver"),
        "{message}"
    );

    resource(&app, &c.location, "device", "Ultrasound 1", &["ultrasound"]).await;
    resource(&app, &c.location, "room", "Room 1", &["procedure-room"]).await;
    let area = app.patch(&path, "*", needs).await.expect(200);
    assert_eq!(
        area.body["requirements"]["injection"],
        json!(["procedure-room", "ultrasound"])
    );
    let bad = json!({"requirements": {"injection": ["Ultrasound"], "surgery": ["x"]}});
    assert_eq!(
        app.patch(&path, "*", bad).await.invalid_fields(),
        ["requirements.surgery"]
    );
}

#[actix_web::test]
async fn bookings_take_a_free_resource_per_tag_and_spread_over_the_rooms() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    let at = |time: &str| format!("2027-01-05T{time}:00-07:00");
    // Both rooms unused: by name, Room A. Then the least used of the day, then by name.
    let first = book_for(&app, &g, &g.c.provider, "a@example.com", &at("09:00"))
        .await
        .expect(201);
    assert_eq!(resource_names(&first.body), ["Room A", "Ultrasound 1"]);
    let ultrasound = first.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == "ultrasound")
        .unwrap()
        .clone();
    assert_eq!(ultrasound["id"], g.ultrasound.as_str());
    assert_eq!(ultrasound["kind"], "device");
    let second = book_for(&app, &g, &g.c.provider, "b@example.com", &at("11:00"))
        .await
        .expect(201);
    assert_eq!(resource_names(&second.body), ["Room B", "Ultrasound 1"]);
    let third = book_for(&app, &g, &g.second, "c@example.com", &at("13:00"))
        .await
        .expect(201);
    assert_eq!(resource_names(&third.body), ["Room A", "Ultrasound 1"]);
    // Assessments need nothing.
    let assessment = app
        .post("/v1/sessions", g.c.booking("assessment", &at("14:00")))
        .await
        .expect(201);
    assert_eq!(assessment.body["resources"], json!([]));

    // The other provider is free at 09:00, the ultrasound is not.
    let taken = book_for(&app, &g, &g.second, "d@example.com", &at("09:15")).await;
    let problem = taken.problem(409, "resource-unavailable");
    assert_eq!(problem["tag"], "ultrasound");
    // Read back, the session names its resources; cancelling frees them at once.
    let id = first.body["id"].as_str().unwrap();
    let read = app.get(&format!("/v1/sessions/{id}")).await.expect(200);
    assert_eq!(resource_names(&read.body), ["Room A", "Ultrasound 1"]);
    app.post(
        &format!("/v1/sessions/{id}/cancel"),
        json!({"reason_code": "patient_request"}),
    )
    .await
    .expect(200);
    book_for(&app, &g, &g.second, "e@example.com", &at("09:15"))
        .await
        .expect(201);
}

#[actix_web::test]
async fn availability_never_offers_two_providers_one_ultrasound() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    book_for(
        &app,
        &g,
        &g.c.provider,
        "a@example.com",
        "2027-01-05T10:00:00-07:00",
    )
    .await
    .expect(201);
    let query = format!(
        "/v1/availability?treatment_area_id={}&kind=injection&from=2027-01-05&to=2027-01-05",
        g.c.area
    );
    let slots = app.get(&query).await.expect(200).body;
    let slots = slots["slots"].as_array().unwrap();
    assert!(!slots.is_empty());
    // The ultrasound is taken 10:00-10:40 (30 min and the 10 min buffer); no slot of either
    // provider may hold it then, though the second provider is free.
    let taken = (
        "2027-01-05T17:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        "2027-01-05T17:40:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
    );
    for slot in slots {
        let start: chrono::DateTime<chrono::Utc> =
            slot["starts_at"].as_str().unwrap().parse().unwrap();
        let held_until = start + chrono::Duration::minutes(40);
        assert!(held_until <= taken.0 || start >= taken.1, "offered {slot}");
    }
    let second_at = |time: &str| {
        slots
            .iter()
            .any(|s| s["provider_id"] == g.second.as_str() && s["starts_at"] == time)
    };
    assert!(second_at("2027-01-05T09:15:00-07:00") && second_at("2027-01-05T10:45:00-07:00"));
    assert!(!second_at("2027-01-05T10:00:00-07:00"));

    // The day calendar and the next slots agree.
    let next = format!(
        "/v1/availability/next?treatment_area_id={}&kind=injection&after=2027-01-05T09:30:00-07:00&limit=3&provider_id={}",
        g.c.area, g.second
    );
    let next = app.get(&next).await.expect(200).body;
    let starts: Vec<&str> = next["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2027-01-05T10:45:00-07:00",
            "2027-01-05T11:00:00-07:00",
            "2027-01-05T11:15:00-07:00"
        ]
    );

    // The provider's day, asked for this area's injections, is not free while the device is out.
    let day = app
        .get(&format!(
            "/v1/providers/{}/schedule?date=2027-01-05&treatment_area_id={}",
            g.second, g.c.area
        ))
        .await
        .expect(200)
        .body;
    let free: Vec<(&str, &str)> = day["free"]
        .as_array()
        .unwrap()
        .iter()
        .map(|gap| {
            (
                gap["starts_at"].as_str().unwrap(),
                gap["ends_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        free,
        [
            ("2027-01-05T08:00:00-07:00", "2027-01-05T10:00:00-07:00"),
            ("2027-01-05T10:40:00-07:00", "2027-01-05T17:00:00-07:00")
        ]
    );
    let plain = app
        .get(&format!(
            "/v1/providers/{}/schedule?date=2027-01-05",
            g.second
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(plain["free"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn downtime_keeps_the_device_from_sessions_and_sessions_keep_downtime_out() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    let path = format!("/v1/resources/{}/downtime", g.ultrasound);
    let repair = json!({"starts_at": "2027-01-05T08:00:00-07:00", "ends_at": "2027-01-05T12:00:00-07:00", "reason": "Probe repair"});
    let created = app.post(&path, repair).await.expect(201);
    assert_eq!(created.body["starts_at"], "2027-01-05T08:00:00-07:00");
    let refused = book_for(
        &app,
        &g,
        &g.c.provider,
        "a@example.com",
        "2027-01-05T10:00:00-07:00",
    )
    .await;
    assert_eq!(
        refused.problem(409, "resource-unavailable")["tag"],
        "ultrasound"
    );
    let booked = book_for(
        &app,
        &g,
        &g.c.provider,
        "b@example.com",
        "2027-01-05T13:00:00-07:00",
    )
    .await
    .expect(201);
    let overlapping =
        json!({"starts_at": "2027-01-05T12:30:00-07:00", "ends_at": "2027-01-05T14:00:00-07:00"});
    let problem = app.post(&path, overlapping).await.problem(409, "in-use");
    assert_eq!(problem["session_ids"], json!([booked.body["id"]]));
    let list = app.get(&path).await.expect(200).body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let entry = created.body["id"].as_str().unwrap();
    app.delete(&format!("{path}/{entry}")).await.expect(204);
    app.delete(&format!("{path}/{entry}"))
        .await
        .problem(404, "not-found");
    book_for(
        &app,
        &g,
        &g.c.provider,
        "c@example.com",
        "2027-01-05T10:00:00-07:00",
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn archiving_a_resource_in_use_lists_its_sessions_or_reassigns_them_whole() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    let first = book_for(
        &app,
        &g,
        &g.c.provider,
        "a@example.com",
        "2027-01-05T09:00:00-07:00",
    )
    .await
    .expect(201);
    let first_id = first.body["id"].as_str().unwrap().to_owned();
    let room_a = first.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == "procedure-room")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let archive = format!("/v1/resources/{room_a}/archive");
    let problem = app.post(&archive, json!({})).await.problem(409, "in-use");
    app.post(&archive, json!(null)).await.problem(409, "in-use");
    assert_eq!(problem["session_ids"], json!([first_id]));
    let reassigned = app
        .post(&archive, json!({"reassign": true}))
        .await
        .expect(200);
    assert_eq!(reassigned.body["active"], false);
    let read = app
        .get(&format!("/v1/sessions/{first_id}"))
        .await
        .expect(200);
    assert_eq!(resource_names(&read.body), ["Room B", "Ultrasound 1"]);

    // The last room cannot be archived with reassign: nothing else is free, nothing changes.
    let room_b = g.rooms.iter().find(|id| **id != room_a).unwrap();
    let problem = app
        .post(
            &format!("/v1/resources/{room_b}/archive"),
            json!({"reassign": true}),
        )
        .await
        .problem(409, "in-use");
    assert_eq!(problem["session_ids"], json!([first_id]));
    let still = app
        .get(&format!("/v1/resources/{room_b}"))
        .await
        .expect(200);
    assert_eq!(still.body["active"], true);
    assert_eq!(
        resource_names(
            &app.get(&format!("/v1/sessions/{first_id}"))
                .await
                .expect(200)
                .body
        ),
        ["Room B", "Ultrasound 1"]
    );
}

#[actix_web::test]
async fn a_reschedule_onto_a_taken_device_is_refused_and_a_free_one_reallocates() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    let mine = book_for(
        &app,
        &g,
        &g.c.provider,
        "a@example.com",
        "2027-01-05T09:00:00-07:00",
    )
    .await
    .expect(201);
    book_for(
        &app,
        &g,
        &g.second,
        "b@example.com",
        "2027-01-05T11:00:00-07:00",
    )
    .await
    .expect(201);
    let path = format!(
        "/v1/sessions/{}/reschedule",
        mine.body["id"].as_str().unwrap()
    );
    let refused = app
        .post(&path, json!({"starts_at": "2027-01-05T11:15:00-07:00"}))
        .await;
    assert_eq!(
        refused.problem(409, "resource-unavailable")["tag"],
        "ultrasound"
    );
    let moved = app
        .post(&path, json!({"starts_at": "2027-01-05T14:00:00-07:00"}))
        .await
        .expect(200);
    assert_eq!(resource_names(&moved.body), ["Room A", "Ultrasound 1"]);
    // Its old time is free for the device again.
    book_for(
        &app,
        &g,
        &g.second,
        "c@example.com",
        "2027-01-05T09:00:00-07:00",
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn a_live_hold_keeps_its_resources_and_an_expired_one_lets_them_go() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    let consult = resource(&app, &g.c.location, "room", "Consult 1", &["consult-room"]).await;
    require(
        &app,
        &g.c.area,
        json!({"assessment": ["consult-room"], "injection": ["procedure-room", "ultrasound"]}),
    )
    .await;
    let hold = json!({"provider_id": g.c.provider, "location_id": g.c.location, "treatment_area_id": g.c.area,
                      "kind": "assessment", "starts_at": "2027-01-05T10:00:00-07:00"});
    app.post("/v1/holds", hold).await.expect(201);
    // The other provider is free, the one consult room is held.
    let patient = new_patient(&app, "walk-in@example.com").await;
    let mut body = g.c.booking("assessment", "2027-01-05T10:15:00-07:00");
    body["patient_id"] = json!(patient);
    body["provider_id"] = json!(g.second);
    let problem = app
        .post("/v1/sessions", body.clone())
        .await
        .problem(409, "resource-unavailable");
    assert_eq!(problem["tag"], "consult-room");
    // Eleven minutes later the hold has expired: the room is free without anything having run.
    app.clock.set(app.now() + chrono::Duration::minutes(11));
    let booked = app.post("/v1/sessions", body).await.expect(201);
    assert_eq!(booked.body["resources"][0]["id"], consult.as_str());
}

#[actix_web::test]
async fn a_course_of_guided_injections_is_planned_around_the_devices_downtime() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    app.patch("/v1/settings", "*", json!({"booking_horizon_days": 365}))
        .await
        .expect(200);
    // The ultrasound is away for the whole of the week the third injection would fall in.
    let repair =
        json!({"starts_at": "2027-02-15T00:00:00-07:00", "ends_at": "2027-02-20T00:00:00-07:00"});
    app.post(&format!("/v1/resources/{}/downtime", g.ultrasound), repair)
        .await
        .expect(201);
    let course = json!({"patient_id": g.c.patient, "treatment_area_id": g.c.area, "location_id": g.c.location,
        "provider_id": g.c.provider, "sessions": 6, "interval_days": {"min": 10, "target": 14, "max": 21},
        "first_starts_at": "2027-01-18T09:00:00-07:00", "side": "left", "book": true});
    let created = app.post("/v1/courses", course).await.expect(201);
    let sessions = created.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 6);
    let starts: Vec<chrono::DateTime<chrono::Utc>> = sessions
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        starts[0],
        "2027-01-18T16:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(
        starts[1],
        "2027-02-01T16:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    // The third would fall on the 15th, inside the downtime: it is planned outside it, and
    // every interval stays within the window.
    let (away, back): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = (
        "2027-02-15T07:00:00Z".parse().unwrap(),
        "2027-02-20T07:00:00Z".parse().unwrap(),
    );
    assert_ne!(
        starts[2],
        "2027-02-15T16:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    for (n, start) in starts.iter().enumerate() {
        assert!(
            *start + chrono::Duration::minutes(40) <= away || *start >= back,
            "session {n} at {start}"
        );
        if n > 0 {
            let gap = (*start - starts[n - 1]).num_days();
            assert!((10..=21).contains(&gap), "session {n}: {gap} days");
        }
    }
    for session in sessions {
        assert_eq!(
            resource_names(session),
            ["Room A", "Ultrasound 1"],
            "{session}"
        );
    }
}

#[actix_web::test]
async fn a_cascade_moves_later_sessions_around_a_taken_device() {
    let app = TestApp::new().await;
    let g = guided(&app).await;
    app.patch("/v1/settings", "*", json!({"booking_horizon_days": 365}))
        .await
        .expect(200);
    let course = json!({"patient_id": g.c.patient, "treatment_area_id": g.c.area, "location_id": g.c.location,
        "provider_id": g.c.provider, "sessions": 2, "interval_days": {"min": 7, "target": 7, "max": 14},
        "first_starts_at": "2027-01-18T09:00:00-07:00", "side": "left", "book": true});
    let created = app.post("/v1/courses", course).await.expect(201);
    let first = created.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The other provider takes the ultrasound on the morning the second session would follow to.
    book_for(
        &app,
        &g,
        &g.second,
        "other@example.com",
        "2027-01-26T09:00:00-07:00",
    )
    .await
    .expect(201);
    let path = format!("/v1/sessions/{first}/reschedule");
    let moved = app
        .post(
            &path,
            json!({"starts_at": "2027-01-19T09:00:00-07:00", "cascade": true}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["starts_at"], "2027-01-19T09:00:00-07:00");
    let read = app
        .get(&format!(
            "/v1/courses/{}",
            created.body["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    let second = &read.body["sessions"][1];
    let start: chrono::DateTime<chrono::Utc> =
        second["starts_at"].as_str().unwrap().parse().unwrap();
    let taken: chrono::DateTime<chrono::Utc> = "2027-01-26T16:00:00Z".parse().unwrap();
    assert!(
        start >= taken + chrono::Duration::minutes(40)
            || start + chrono::Duration::minutes(40) <= taken,
        "{second}"
    );
    // That morning Room A serves the other session: the least used room goes to this one.
    assert_eq!(resource_names(second), ["Room B", "Ultrasound 1"]);
}

#[actix_web::test]
async fn fifty_bookings_of_two_providers_at_one_time_share_one_ultrasound_once() {
    use crate::support::http::{Server, request};
    let app = TestApp::new().await;
    let g = guided(&app).await;
    let mut bodies = Vec::new();
    for n in 0..50 {
        let patient = new_patient(&app, &format!("p{n}@example.com")).await;
        let mut body = g.c.booking("injection", "2027-01-05T10:00:00-07:00");
        body["patient_id"] = json!(patient);
        body["provider_id"] = json!(if n % 2 == 0 { &g.c.provider } else { &g.second });
        bodies.push(body);
    }
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let auth = format!("Bearer {}", app.admin_key);
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (addr, auth) = (server.addr, auth.clone());
            actix_web::rt::spawn(async move {
                request(
                    addr,
                    "POST",
                    "/v1/sessions",
                    Some(&body),
                    &[("Authorization", auth.as_str())],
                )
                .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut kinds = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        statuses.push(reply.status);
        if reply.status == 409 {
            kinds.push(reply.body["type"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    // The winner's provider loses on its own calendar; the other provider's on the device.
    assert!(
        kinds.iter().any(|k| k == "/problems/resource-unavailable"),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .all(|k| k == "/problems/resource-unavailable" || k == "/problems/slot-taken")
    );
    let sessions = app.get("/v1/sessions").await.expect(200).body;
    let items = sessions["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(resource_names(&items[0]), ["Room A", "Ultrasound 1"]);
}
