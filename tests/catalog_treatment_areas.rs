use serde_json::json;

use crate::support::TestApp;

fn knee() -> serde_json::Value {
    json!({
        "slug": "knee", "name": "Knee",
        "durations": {"assessment": 45, "injection": 30, "follow_up": 20},
        "recommended_sessions": {"min": 3, "max": 6},
        "interval_days": {"min": 21, "target": 28, "max": 42},
        "pre_care": "Stop NSAIDs 3 days before.", "post_care": "Rest 2 days."
    })
}

#[actix_web::test]
async fn treatment_areas_are_created_and_found_by_id_or_slug() {
    let app = TestApp::new().await;
    let created = app.post("/v1/treatment-areas", knee()).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body["durations"],
        json!({"assessment": 45, "injection": 30, "follow_up": 20})
    );
    assert_eq!(
        created.body["interval_days"],
        json!({"min": 21, "target": 28, "max": 42})
    );
    let by_id = app
        .get(&format!("/v1/treatment-areas/{id}"))
        .await
        .expect(200);
    let by_slug = app.get("/v1/treatment-areas/knee").await.expect(200);
    assert_eq!(by_id.body, by_slug.body);
    assert_eq!(by_slug.header("etag"), Some("\"1\""));
    app.get("/v1/treatment-areas/elbow")
        .await
        .problem(404, "not-found");

    let conflict = app
        .post("/v1/treatment-areas", knee())
        .await
        .problem(409, "slug-taken");
    assert!(
        !conflict["detail"]
            .as_str()
            .unwrap()
            .contains("duplicate key"),
        "no database text leaks"
    );

    let updated = app
        .patch(
            &format!("/v1/treatment-areas/{id}"),
            "\"1\"",
            json!({"name": "Knee (tibiofemoral)", "interval_days": {"min": 14, "max": 35}, "pre_care": null}),
        )
        .await
        .expect(200);
    assert_eq!(
        updated.body["interval_days"],
        json!({"min": 14, "target": null, "max": 35})
    );
    assert_eq!(updated.body["pre_care"], serde_json::Value::Null);
    assert_eq!(updated.body["post_care"], "Rest 2 days.");
    app.post(&format!("/v1/treatment-areas/{id}/archive"), json!(null))
        .await
        .expect(200);
    let active = app.get("/v1/treatment-areas?active=true").await.expect(200);
    assert!(active.body["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn renaming_a_slug_onto_another_is_a_conflict() {
    let app = TestApp::new().await;
    app.treatment_area("knee").await;
    let hip = app.treatment_area("hip").await;
    app.patch(
        &format!("/v1/treatment-areas/{hip}"),
        "\"1\"",
        json!({"slug": "knee"}),
    )
    .await
    .problem(409, "slug-taken");
    assert_eq!(
        app.get(&format!("/v1/treatment-areas/{hip}")).await.body["slug"],
        "hip"
    );
}

#[actix_web::test]
async fn treatment_area_rules_name_each_field() {
    let app = TestApp::new().await;
    let mut bad = knee();
    bad["slug"] = json!("Knee Joint");
    bad["durations"]["injection"] = json!(0);
    bad["recommended_sessions"] = json!({"min": 6, "max": 3});
    bad["interval_days"] = json!({"min": 21, "target": 50, "max": 42});
    let mut fields = app.post("/v1/treatment-areas", bad).await.invalid_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "durations.injection",
            "interval_days.target",
            "recommended_sessions.max",
            "slug"
        ]
    );

    let mut missing = knee();
    missing["durations"]
        .as_object_mut()
        .unwrap()
        .remove("follow_up");
    assert_eq!(
        app.post("/v1/treatment-areas", missing)
            .await
            .invalid_fields(),
        ["durations.follow_up"]
    );

    let mut inverted = knee();
    inverted["interval_days"] = json!({"min": 30, "max": 20});
    let body = app
        .post("/v1/treatment-areas", inverted)
        .await
        .problem(422, "unprocessable-values");
    assert_eq!(body["errors"][0]["field"], "interval_days.max");
    assert_eq!(body["errors"][0]["message"], "must not be less than min");
}
