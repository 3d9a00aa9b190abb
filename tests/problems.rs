use actix_web::http::Method;
use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::new().await;
    app.get("/v1/nothing-here").await.problem(404, "not-found");
    let wrong = app.delete("/v1/locations").await;
    assert_eq!(wrong.header("allow"), Some("GET, POST"));
    wrong.problem(405, "method-not-allowed");
    let id = uuid::Uuid::now_v7();
    let wrong = app
        .send(
            Method::PUT,
            &format!("/v1/locations/{id}"),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(wrong.header("allow"), Some("GET, PATCH"));
    // `/v1/courses/plan` is a path of its own (POST), not a course id for PATCH.
    let wrong = app
        .send(Method::PATCH, "/v1/courses/plan", Some(json!({})), &[])
        .await;
    assert_eq!(wrong.header("allow"), Some("POST"));
    wrong.problem(405, "method-not-allowed");
    // Elsewhere a bad id is still a bad id.
    let bad = app
        .send(Method::PATCH, "/v1/courses/not-an-id", Some(json!({})), &[])
        .await;
    assert_eq!(bad.invalid_fields(), ["id"]);
}

#[actix_web::test]
async fn bodies_must_be_json_of_bounded_size() {
    let app = TestApp::new().await;
    let reply = app.post_raw("/v1/locations", "text/plain", "name=x").await;
    reply.problem(415, "unsupported-media-type");

    let huge = json!({"name": "x".repeat(70 * 1024), "time_zone": "UTC"});
    app.post("/v1/locations", huge)
        .await
        .problem(413, "payload-too-large");

    let reply = app
        .send(
            Method::POST,
            "/v1/locations",
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(reply.invalid_fields(), ["body"]);
}

#[actix_web::test]
async fn malformed_json_names_the_body() {
    let app = TestApp::new().await;
    let reply = app
        .post_raw("/v1/locations", "application/json", "{\"name\": \"x\",")
        .await;
    let body = reply.problem(400, "validation-failed");
    assert_eq!(body["errors"][0]["field"], "body");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON")
    );
    let reply = app
        .post_raw(
            "/v1/locations",
            "application/json",
            "{\"name\": \"x\", \"time_zone\": \"UTC\"} trailing",
        )
        .await;
    assert_eq!(reply.invalid_fields(), ["body"]);
    let reply = app.post("/v1/locations", json!("just a string")).await;
    assert_eq!(reply.invalid_fields(), ["body"]);
    let reply = app.post("/v1/locations", json!([1, 2])).await;
    assert_eq!(reply.invalid_fields(), ["body"]);
}

#[actix_web::test]
async fn the_docs_page_and_document_are_served() {
    let app = TestApp::new().await;
    let docs = app.get("/docs/").await.expect(200);
    assert!(
        docs.body.as_str().unwrap_or_default().contains("swagger"),
        "Swagger UI page"
    );
    let bare = app.get("/docs").await.expect(308);
    assert_eq!(bare.header("location"), Some("/docs/"));
    let document = app.get("/openapi.json").await.expect(200);
    assert_eq!(document.body["openapi"], "3.1.0");
    assert!(document.body["paths"]["/v1/locations"].is_object());
}

#[actix_web::test]
async fn problem_types_are_documented_at_their_uri() {
    let app = TestApp::new().await;
    let problem = app.get("/v1/nothing-here").await.problem(404, "not-found");
    let described = app.get(problem["type"].as_str().unwrap()).await.expect(200);
    assert_eq!(described.body["status"], 404);
    assert_eq!(described.body["type"], problem["type"]);
    app.get("/problems/no-such-type")
        .await
        .problem(404, "not-found");
}

#[test]
fn the_readme_lists_every_problem_type_with_its_status() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for kind in prolo_scheduler::error::ProblemType::ALL {
        let row = format!("| `{}` | {} |", kind.uri(), kind.status());
        assert!(readme.contains(&row), "README has no row {row}");
    }
}
