use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn settings_are_read_and_changed_with_if_match() {
    let app = TestApp::new().await;
    let current = app.get("/v1/settings").await.expect(200);
    assert_eq!(current.body["slot_step_minutes"], 15);
    assert_eq!(current.body["booking_horizon_days"], 180);
    let etag = current.header("etag").unwrap().to_owned();

    let updated = app
        .patch(
            "/v1/settings",
            &etag,
            json!({"slot_step_minutes": 30, "minimum_notice_minutes": 1440}),
        )
        .await;
    let updated = updated.expect(200);
    assert_eq!(updated.body["slot_step_minutes"], 30);
    assert_eq!(
        updated.body["late_cancellation_hours"], 24,
        "untouched settings kept"
    );
    app.patch("/v1/settings", &etag, json!({"slot_step_minutes": 20}))
        .await
        .problem(412, "precondition-failed");
    let missing = app
        .send(
            actix_web::http::Method::PATCH,
            "/v1/settings",
            Some(json!({})),
            &[],
        )
        .await;
    missing.problem(428, "precondition-required");

    let mut fields = app
        .patch(
            "/v1/settings",
            "*",
            json!({"slot_step_minutes": 0, "booking_horizon_days": 5000}),
        )
        .await
        .invalid_fields();
    fields.sort();
    assert_eq!(fields, ["booking_horizon_days", "slot_step_minutes"]);
    assert_eq!(app.get("/v1/settings").await.body["slot_step_minutes"], 30);
}
