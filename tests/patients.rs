use actix_web::http::Method;
use prolo_scheduler::domain::access::Role;
use serde_json::{Value, json};

use crate::support::TestApp;

fn jordan() -> Value {
    json!({"given_name": "Jordan", "family_name": "Reyes", "date_of_birth": "1968-04-12",
           "email": "Jordan.Reyes@example.com", "phone": "+1 303 555 0142", "preferred_contact": "email"})
}

#[actix_web::test]
async fn patients_are_created_found_updated_and_archived() {
    let app = TestApp::new().await;
    let staff = app.key(Role::Staff, None).await;
    let created = app
        .send_as(
            Some(&staff),
            Method::POST,
            "/v1/patients",
            Some(jordan()),
            &[],
        )
        .await
        .expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/patients/{id}").as_str())
    );
    assert_eq!(created.body["preferred_contact"], "email");
    assert_eq!(created.body["source"], "staff");

    let fetched = app
        .send_as(
            Some(&staff),
            Method::GET,
            &format!("/v1/patients/{id}"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(fetched.body["family_name"], "Reyes");
    let etag = fetched.header("etag").unwrap().to_owned();

    let updated = app
        .send_as(
            Some(&staff),
            Method::PATCH,
            &format!("/v1/patients/{id}"),
            Some(json!({"phone": null, "notes": "Prefers mornings"})),
            &[("if-match", &etag)],
        )
        .await
        .expect(200);
    assert_eq!(updated.body["phone"], Value::Null);
    assert_eq!(updated.body["notes"], "Prefers mornings");
    app.send_as(
        Some(&staff),
        Method::PATCH,
        &format!("/v1/patients/{id}"),
        Some(json!({"notes": "x"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "precondition-failed");

    let archived = app
        .send_as(
            Some(&staff),
            Method::POST,
            &format!("/v1/patients/{id}/archive"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(archived.body["active"], false);
    let listed = app
        .send_as(
            Some(&staff),
            Method::GET,
            "/v1/patients?active=false",
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
}

#[actix_web::test]
async fn the_same_email_and_birth_date_is_a_duplicate_naming_the_first() {
    let app = TestApp::new().await;
    let first = app.post("/v1/patients", jordan()).await.expect(201);
    let mut again = jordan();
    again["email"] = json!("jordan.reyes@EXAMPLE.com");
    again["given_name"] = json!("Jordy");
    let body = app
        .post("/v1/patients", again)
        .await
        .problem(409, "duplicate");
    assert_eq!(body["existing_id"], first.body["id"]);
    let mut other_birthday = jordan();
    other_birthday["date_of_birth"] = json!("1970-01-01");
    app.post("/v1/patients", other_birthday).await.expect(201);
}

#[actix_web::test]
async fn search_matches_name_email_phone_and_birth_date() {
    let app = TestApp::new().await;
    app.post("/v1/patients", jordan()).await.expect(201);
    app.post("/v1/patients", json!({"given_name": "Ana", "family_name": "Lund", "date_of_birth": "1980-02-02", "phone": "720-555-0100"}))
        .await
        .expect(201);
    let names = |reply: crate::support::Reply| -> Vec<String> {
        reply.expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["given_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(app.post("/v1/patients/search", json!({"q": "reyes"})).await),
        ["Jordan"]
    );
    assert_eq!(
        names(
            app.post("/v1/patients/search", json!({"q": "jordan reyes"}))
                .await
        ),
        ["Jordan"]
    );
    assert_eq!(
        names(
            app.post("/v1/patients/search", json!({"q": "EXAMPLE.COM"}))
                .await
        ),
        ["Jordan"]
    );
    assert_eq!(
        names(
            app.post("/v1/patients/search", json!({"q": "555-0100"}))
                .await
        ),
        ["Ana"]
    );
    assert_eq!(
        names(
            app.post(
                "/v1/patients/search",
                json!({"date_of_birth": "1980-02-02"})
            )
            .await
        ),
        ["Ana"]
    );
    assert_eq!(
        names(app.post("/v1/patients/search", json!({"q": "%%"})).await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(app.post("/v1/patients/search", json!({})).await).len(),
        2
    );
    assert_eq!(
        app.post("/v1/patients/search", json!({"q": "a"}))
            .await
            .invalid_fields(),
        ["q"]
    );
}

#[actix_web::test]
async fn patient_fields_are_validated() {
    let app = TestApp::new().await;
    let bad = json!({"given_name": " ", "family_name": "X", "date_of_birth": "2030-01-01",
                     "email": "not-an-email", "phone": "12", "preferred_contact": "fax"});
    assert_eq!(
        app.post("/v1/patients", bad).await.invalid_fields(),
        ["preferred_contact"]
    );
    let bad = json!({"given_name": " ", "family_name": "X", "date_of_birth": "1899-12-31",
                     "email": "not-an-email", "phone": "12"});
    let mut fields = app.post("/v1/patients", bad).await.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["date_of_birth", "email", "given_name", "phone"]);
    // A name is one line without hidden characters (the document states it as a pattern).
    let hidden = json!({"given_name": "Ann\nMarie", "family_name": "\u{2067}B",
                        "date_of_birth": "1970-01-01"});
    let mut fields = app.post("/v1/patients", hidden).await.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["family_name", "given_name"]);
    let future = json!({"given_name": "A", "family_name": "B", "date_of_birth": "2027-01-05"});
    assert_eq!(
        app.post("/v1/patients", future).await.broken_rules(),
        ["date_of_birth"]
    );
    let no_dob = json!({"given_name": "A", "family_name": "B"});
    assert_eq!(
        app.post("/v1/patients", no_dob).await.invalid_fields(),
        ["date_of_birth"]
    );
}

#[actix_web::test]
async fn every_patient_access_is_audited_once() {
    let app = TestApp::new().await;
    let created = app.post("/v1/patients", jordan()).await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    app.get(&format!("/v1/patients/{id}")).await.expect(200);
    app.patch(
        &format!("/v1/patients/{id}"),
        "\"1\"",
        json!({"notes": "n"}),
    )
    .await
    .expect(200);
    app.post("/v1/patients/search", json!({"q": "reyes"}))
        .await
        .expect(200);
    app.get("/v1/patients").await.expect(200);
    let for_patient = app
        .get(&format!("/v1/audit-events?patient_id={id}"))
        .await
        .expect(200);
    let actions: Vec<&str> = for_patient.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["patient.create", "patient.read", "patient.update"]
    );
    let all = app
        .get("/v1/audit-events?resource_type=patients")
        .await
        .expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn a_provider_key_sees_only_its_own_patients() {
    let app = TestApp::new().await;
    let location = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&location]).await;
    let key = app.key(Role::Provider, Some(&provider)).await;
    let patient = app.post("/v1/patients", jordan()).await.expect(201).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send_as(
        Some(&key),
        Method::GET,
        &format!("/v1/patients/{patient}"),
        None,
        &[],
    )
    .await
    .problem(404, "not-found");
    app.send_as(
        Some(&key),
        Method::POST,
        "/v1/patients/search",
        Some(json!({})),
        &[],
    )
    .await
    .problem(403, "forbidden");
}
