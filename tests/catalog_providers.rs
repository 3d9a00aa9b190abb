use actix_web::http::Method;
use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn providers_link_areas_and_locations_and_filter_by_them() {
    let app = TestApp::new().await;
    let knee = app.treatment_area("knee").await;
    let spine = app.treatment_area("lumbar-spine").await;
    let denver = app.location("Denver", "America/Denver").await;
    let boulder = app.location("Boulder", "America/Denver").await;
    let chen = app.provider(&[&knee, &spine], &[&denver]).await;
    let ortega = app.provider(&[&spine], &[&denver, &boulder]).await;

    let fetched = app.get(&format!("/v1/providers/{chen}")).await.expect(200);
    assert_eq!(
        fetched.body["treatment_area_ids"].as_array().unwrap().len(),
        2
    );
    assert_eq!(fetched.header("etag"), Some("\"1\""));

    let ids = |reply: crate::support::Reply| -> Vec<String> {
        reply.expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(app
            .get(&format!("/v1/providers?treatment_area_id={knee}"))
            .await),
        [chen.as_str()]
    );
    assert_eq!(
        ids(app
            .get(&format!("/v1/providers?location_id={boulder}"))
            .await),
        [ortega.as_str()]
    );
    assert_eq!(
        ids(app.get("/v1/providers").await),
        [chen.clone(), ortega.clone()]
    );
    assert_eq!(
        app.get("/v1/providers?location_id=denver")
            .await
            .invalid_fields(),
        ["location_id"]
    );

    let updated = app
        .patch(
            &format!("/v1/providers/{chen}"),
            "\"1\"",
            json!({"credentials": "MD, PhD", "location_ids": [boulder]}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["credentials"], "MD, PhD");
    assert_eq!(updated.body["location_ids"], json!([boulder]));
    assert_eq!(
        updated.body["treatment_area_ids"].as_array().unwrap().len(),
        2,
        "untouched list kept"
    );

    let archived = app
        .send(
            Method::POST,
            &format!("/v1/providers/{ortega}/archive"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(archived.body["active"], false);
    assert_eq!(ids(app.get("/v1/providers?active=true").await), [chen]);
}

#[actix_web::test]
async fn unknown_links_are_rejected_and_nothing_is_written() {
    let app = TestApp::new().await;
    let denver = app.location("Denver", "America/Denver").await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let reply = app
        .post(
            "/v1/providers",
            json!({"name": "Dr. X", "treatment_area_ids": [ghost], "location_ids": [denver]}),
        )
        .await;
    assert_eq!(reply.broken_rules(), ["treatment_area_ids"]);
    let reply = app
        .post(
            "/v1/providers",
            json!({"name": "Dr. X", "treatment_area_ids": [], "location_ids": [denver, denver]}),
        )
        .await;
    assert_eq!(reply.broken_rules(), ["location_ids"]);
    assert!(
        app.get("/v1/providers").await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn working_hours_replace_the_weekly_pattern() {
    let app = TestApp::new().await;
    let denver = app.location("Denver", "America/Denver").await;
    let boulder = app.location("Boulder", "America/Denver").await;
    let provider = app.provider(&[], &[&denver, &boulder]).await;
    let path = format!("/v1/providers/{provider}/working-hours");
    assert_eq!(
        app.get(&path).await.expect(200).body,
        json!({"intervals": []})
    );

    let pattern = json!({"intervals": [
        {"location_id": boulder, "weekday": "tuesday", "start": "09:00", "end": "17:00"},
        {"location_id": denver, "weekday": "monday", "start": "13:00", "end": "17:00"},
        {"location_id": denver, "weekday": "monday", "start": "08:00", "end": "12:00",
         "effective_from": "2027-01-01", "effective_until": "2027-06-30"}
    ]});
    let saved = app.put(&path, pattern).await.expect(200);
    let weekdays: Vec<&str> = saved.body["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["weekday"].as_str().unwrap())
        .collect();
    assert_eq!(weekdays, ["monday", "monday", "tuesday"]);
    assert_eq!(saved.body["intervals"][0]["start"], "08:00");
    assert_eq!(saved.body["intervals"][0]["effective_until"], "2027-06-30");
    assert_eq!(app.get(&path).await.body, saved.body);

    // A location with working hours cannot be dropped from the provider.
    app.patch(
        &format!("/v1/providers/{provider}"),
        "*",
        json!({"location_ids": [denver]}),
    )
    .await
    .problem(409, "in-use");

    app.put(&path, json!({"intervals": []})).await.expect(200);
    app.patch(
        &format!("/v1/providers/{provider}"),
        "*",
        json!({"location_ids": [denver]}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn bad_working_hours_name_the_interval_and_keep_the_old_pattern() {
    let app = TestApp::new().await;
    let denver = app.location("Denver", "America/Denver").await;
    let elsewhere = app.location("Elsewhere", "Europe/Berlin").await;
    let provider = app.provider(&[], &[&denver]).await;
    let path = format!("/v1/providers/{provider}/working-hours");
    let good = json!({"intervals": [{"location_id": denver, "weekday": "friday", "start": "09:00", "end": "12:00"}]});
    app.put(&path, good.clone()).await.expect(200);

    let overlapping = json!({"intervals": [
        {"location_id": denver, "weekday": "monday", "start": "08:00", "end": "12:00"},
        {"location_id": denver, "weekday": "monday", "start": "11:30", "end": "14:00"},
        {"location_id": denver, "weekday": "tuesday", "start": "17:00", "end": "09:00"},
        {"location_id": elsewhere, "weekday": "wednesday", "start": "09:00", "end": "10:00"}
    ]});
    let fields = app.put(&path, overlapping).await.broken_rules();
    assert_eq!(
        fields,
        [
            "intervals[1].start",
            "intervals[2].end",
            "intervals[3].location_id"
        ]
    );
    let malformed = json!({"intervals": [{"location_id": denver, "weekday": "funday", "start": "09:00", "end": "12:00"}]});
    assert_eq!(
        app.put(&path, malformed).await.invalid_fields(),
        ["intervals[0].weekday"]
    );
    let malformed = json!({"intervals": [{"location_id": denver, "weekday": "monday", "start": "9am", "end": "12:00"}]});
    assert_eq!(
        app.put(&path, malformed).await.invalid_fields(),
        ["intervals[0].start"]
    );
    assert_eq!(app.get(&path).await.body, good, "the old pattern stands");

    let ghost = uuid::Uuid::now_v7();
    app.put(
        &format!("/v1/providers/{ghost}/working-hours"),
        good.clone(),
    )
    .await
    .problem(404, "not-found");
    app.get(&format!("/v1/providers/{ghost}/working-hours"))
        .await
        .problem(404, "not-found");
}

#[actix_web::test]
async fn time_off_is_added_listed_by_range_and_deleted() {
    let app = TestApp::new().await;
    let denver = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&denver]).await;
    let path = format!("/v1/providers/{provider}/time-off");
    let holidays = app
        .post(&path, json!({"starts_at": "2026-12-24T00:00:00-07:00", "ends_at": "2026-12-27T00:00:00-07:00", "reason": "Holidays"}))
        .await
        .expect(201);
    assert_eq!(
        holidays.body["starts_at"], "2026-12-24T00:00:00-07:00",
        "in the zone of the provider's only location"
    );
    let conference = app
        .post(&path, json!({"starts_at": "2027-02-01T08:00:00-07:00", "ends_at": "2027-02-03T17:00:00-07:00"}))
        .await
        .expect(201);
    let location = conference.header("location").unwrap().to_owned();
    // A provider working in two zones has no one zone: its time off is written in UTC.
    let boston = app.location("Boston", "America/New_York").await;
    let both = app.provider(&[], &[&denver, &boston]).await;
    let away = app
        .post(
            &format!("/v1/providers/{both}/time-off"),
            json!({"starts_at": "2027-02-01T08:00:00-07:00", "ends_at": "2027-02-01T12:00:00-07:00"}),
        )
        .await
        .expect(201);
    assert_eq!(away.body["starts_at"], "2027-02-01T15:00:00Z");

    let listed = app
        .get(&format!("{path}?from=2027-01-01T00:00:00Z"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["id"], conference.body["id"]);
    // An unencoded `+` arrives as a space and still parses.
    let listed = app
        .get(&format!("{path}?to=2026-12-25T00:00:00+01:00"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"][0]["id"], holidays.body["id"]);
    assert_eq!(
        app.get(&format!("{path}?from=2027-01-01"))
            .await
            .invalid_fields(),
        ["from"]
    );
    assert_eq!(
        app.get(&format!(
            "{path}?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z"
        ))
        .await
        .broken_rules(),
        ["to"]
    );

    app.delete(&location).await.expect(204);
    app.delete(&location).await.problem(404, "not-found");
    assert_eq!(
        app.get(&path).await.body["items"].as_array().unwrap().len(),
        1
    );
}

#[actix_web::test]
async fn time_off_input_is_checked() {
    let app = TestApp::new().await;
    let denver = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&denver]).await;
    let path = format!("/v1/providers/{provider}/time-off");
    let no_offset =
        json!({"starts_at": "2026-12-24T09:00:00", "ends_at": "2026-12-24T12:00:00-07:00"});
    let body = app
        .post(&path, no_offset)
        .await
        .problem(400, "validation-failed");
    assert_eq!(body["errors"][0]["field"], "starts_at");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("offset")
    );
    let inverted = json!({"starts_at": "2026-12-24T12:00:00Z", "ends_at": "2026-12-24T09:00:00Z"});
    assert_eq!(app.post(&path, inverted).await.broken_rules(), ["ends_at"]);
    let ghost = uuid::Uuid::now_v7();
    let valid = json!({"starts_at": "2026-12-24T09:00:00Z", "ends_at": "2026-12-24T12:00:00Z"});
    app.post(&format!("/v1/providers/{ghost}/time-off"), valid)
        .await
        .problem(404, "not-found");
}
