use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn create_get_list_update_archive_a_location() {
    let app = TestApp::new().await;
    let created = app
        .post(
            "/v1/locations",
            json!({"name": " Denver ", "time_zone": "America/Denver", "address": "1200 Pearl St"}),
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/locations/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.body["name"], "Denver", "names are trimmed");
    assert_eq!(created.body["active"], true);

    let fetched = app.get(&format!("/v1/locations/{id}")).await.expect(200);
    assert_eq!(fetched.body["time_zone"], "America/Denver");
    assert_eq!(fetched.header("etag"), Some("\"1\""));

    let updated = app
        .patch(
            &format!("/v1/locations/{id}"),
            "\"1\"",
            json!({"name": "Denver Pearl St", "address": null}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["name"], "Denver Pearl St");
    assert_eq!(updated.body["address"], serde_json::Value::Null);
    assert_eq!(updated.header("etag"), Some("\"2\""));

    let archived = app
        .send(
            actix_web::http::Method::POST,
            &format!("/v1/locations/{id}/archive"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(archived.body["active"], false);
    assert!(archived.body["archived_at"].is_string());
    // Archived locations remain readable, and filterable.
    app.get(&format!("/v1/locations/{id}")).await.expect(200);
    let active = app.get("/v1/locations?active=true").await.expect(200);
    assert_eq!(active.body["items"].as_array().unwrap().len(), 0);
    let inactive = app.get("/v1/locations?active=false").await.expect(200);
    assert_eq!(inactive.body["items"][0]["id"], id.as_str());
}

#[actix_web::test]
async fn location_input_is_validated_field_by_field() {
    let app = TestApp::new().await;
    let mut fields = app
        .post(
            "/v1/locations",
            json!({"name": "  ", "time_zone": "Mountain Time", "address": "x".repeat(501)}),
        )
        .await
        .invalid_fields();
    fields.sort();
    assert_eq!(fields, ["address", "name", "time_zone"]);
    assert_eq!(
        app.post("/v1/locations", json!({"time_zone": "UTC"}))
            .await
            .invalid_fields(),
        ["name"]
    );
    assert_eq!(
        app.post("/v1/locations", json!({"name": 5, "time_zone": "UTC"}))
            .await
            .invalid_fields(),
        ["name"]
    );
    assert_eq!(
        app.post(
            "/v1/locations",
            json!({"name": "a", "time_zone": "UTC", "colour": "red"})
        )
        .await
        .invalid_fields(),
        ["colour"]
    );
    let id = app.location("Boulder", "America/Denver").await;
    assert_eq!(
        app.patch(
            &format!("/v1/locations/{id}"),
            "\"1\"",
            json!({"time_zone": "Nowhere/City"})
        )
        .await
        .broken_rules(),
        ["time_zone"]
    );
    // Nothing was half-written.
    let fetched = app.get(&format!("/v1/locations/{id}")).await.expect(200);
    assert_eq!(fetched.body["time_zone"], "America/Denver");
    assert_eq!(fetched.header("etag"), Some("\"1\""));
}

#[actix_web::test]
async fn patch_requires_a_current_etag() {
    let app = TestApp::new().await;
    let id = app.location("Boulder", "America/Denver").await;
    let path = format!("/v1/locations/{id}");
    let missing = app
        .send(
            actix_web::http::Method::PATCH,
            &path,
            Some(json!({"name": "B"})),
            &[],
        )
        .await;
    missing.problem(428, "precondition-required");
    // Not an entity tag at all: a malformed header, not a stale one.
    for malformed in ["{}", "7", "", "\"1", "*, \"1\""] {
        let reply = app.patch(&path, malformed, json!({"name": "B"})).await;
        assert_eq!(reply.invalid_fields(), ["If-Match"], "{malformed:?}");
    }
    app.patch(&path, "\"7\"", json!({"name": "B"}))
        .await
        .problem(412, "precondition-failed");
    app.patch(&path, "W/\"1\"", json!({"name": "B"}))
        .await
        .problem(412, "precondition-failed");
    // A list matches when one strong tag does; a comma inside a tag does not split it.
    app.patch(&path, "W/\"1\", \"a,\\\"\t,\"1\"", json!({"name": "B"}))
        .await
        .expect(200);
    // The first writer wins; a second writer holding the old tag is refused.
    app.patch(&path, "\"1\"", json!({"name": "C"}))
        .await
        .problem(412, "precondition-failed");
    app.patch(&path, "\"2,3\"", json!({"name": "C"}))
        .await
        .problem(412, "precondition-failed");
    app.patch(&path, "*", json!({"name": "C"}))
        .await
        .expect(200);
    let archive = format!("{path}/archive");
    let stale = app
        .send(
            actix_web::http::Method::POST,
            &archive,
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.problem(412, "precondition-failed");
    assert_eq!(app.get(&path).await.body["active"], true);
}

#[actix_web::test]
async fn lists_page_with_cursors() {
    let app = TestApp::new().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.location(&format!("Site {n}"), "Europe/Berlin").await);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/locations?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = app.get(&path).await.expect(200);
        pages += 1;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/locations?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "every item once, in creation order");
    assert_eq!(
        app.get("/v1/locations").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        app.get("/v1/locations?limit=0").await.invalid_fields(),
        ["limit"]
    );
    assert_eq!(
        app.get("/v1/locations?limit=101").await.invalid_fields(),
        ["limit"]
    );
    assert_eq!(
        app.get("/v1/locations?limit=ten").await.invalid_fields(),
        ["limit"]
    );
    assert_eq!(
        app.get("/v1/locations?cursor=abc").await.invalid_fields(),
        ["cursor"]
    );
    assert_eq!(
        app.get("/v1/locations?active=maybe").await.invalid_fields(),
        ["active"]
    );
}

#[actix_web::test]
async fn unknown_and_malformed_ids() {
    let app = TestApp::new().await;
    let unknown = uuid::Uuid::now_v7();
    app.get(&format!("/v1/locations/{unknown}"))
        .await
        .problem(404, "not-found");
    app.patch(
        &format!("/v1/locations/{unknown}"),
        "*",
        json!({"name": "x"}),
    )
    .await
    .problem(404, "not-found");
    assert_eq!(
        app.get("/v1/locations/not-a-uuid").await.invalid_fields(),
        ["id"]
    );
}
