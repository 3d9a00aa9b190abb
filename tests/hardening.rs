//! Small correctness gaps an adversarial review found: each test failed before its fix.

use actix_web::http::Method;
use prolo_scheduler::domain::access::Role;
use serde_json::json;

use crate::sessions::{clinic, new_patient};
use crate::support::TestApp;
use crate::support::http::{Server, request};

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::new().await;
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let auth = format!("{scheme} {}", app.admin_key);
        app.send_as(
            None,
            Method::GET,
            "/v1/me",
            None,
            &[("authorization", &auth)],
        )
        .await
        .expect(200);
    }
    let basic = format!("Basic {}", app.admin_key);
    app.send_as(
        None,
        Method::GET,
        "/v1/me",
        None,
        &[("authorization", &basic)],
    )
    .await
    .problem(401, "unauthorized");
}

#[actix_web::test]
async fn an_archived_providers_keys_stop_working_and_none_can_be_issued() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let key = app.key(Role::Provider, Some(&c.provider)).await;
    app.send_as(Some(&key), Method::GET, "/v1/me", None, &[])
        .await
        .expect(200);
    app.post(&format!("/v1/providers/{}/archive", c.provider), json!({}))
        .await
        .expect(200);
    app.send_as(Some(&key), Method::GET, "/v1/me", None, &[])
        .await
        .problem(401, "unauthorized");
    let issued = app
        .post(
            "/v1/api-keys",
            json!({"role": "provider", "label": "Dr", "provider_id": c.provider}),
        )
        .await;
    assert_eq!(issued.broken_rules(), ["provider_id"]);
}

#[actix_web::test]
async fn a_course_of_another_patient_is_a_rule_not_a_schema_violation() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let other = new_patient(&app, "other@example.com").await;
    let course = app
        .post(
            "/v1/courses",
            json!({"patient_id": other, "treatment_area_id": c.area, "location_id": c.location,
                   "sessions": 3, "side": "left", "interval_days": {"min": 7, "target": 14, "max": 21}}),
        )
        .await
        .expect(201);
    let mut booking = c.booking("injection", "2027-01-12T09:00:00-07:00");
    booking["course_id"] = course.body["id"].clone();
    let reply = app.post("/v1/sessions", booking).await;
    assert_eq!(reply.broken_rules(), ["course_id"]);
}

#[actix_web::test]
async fn starts_fall_on_whole_minutes() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    for start in [
        "2027-01-12T09:00:30-07:00",
        "2027-01-12T09:00:00.5-07:00",
        "2027-01-12T09:00:00.000001-07:00",
        "2027-01-12T23:59:60-07:00",
    ] {
        let reply = app
            .post("/v1/sessions", c.booking("injection", start))
            .await;
        assert_eq!(reply.broken_rules(), ["starts_at"], "{start}");
    }
    app.post(
        "/v1/sessions",
        c.booking("injection", "2027-01-12T09:00:00.000-07:00"),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn eight_parallel_extensions_with_one_key_extend_once() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    app.patch("/v1/settings", "*", json!({"booking_horizon_days": 365}))
        .await
        .expect(200);
    let course = app
        .post(
            "/v1/courses",
            json!({"patient_id": c.patient, "treatment_area_id": c.area, "location_id": c.location,
                   "sessions": 2, "side": "right", "interval_days": {"min": 7, "target": 7, "max": 10},
                   "first_starts_at": "2027-02-01T09:00:00-07:00", "book": true}),
        )
        .await
        .expect(201);
    let id = course.body["id"].as_str().unwrap().to_owned();
    let server = Server::start(&app.db.url, app.clock.clone()).await;
    let auth = format!("Bearer {}", app.admin_key);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (addr, auth, path) = (
                server.addr,
                auth.clone(),
                format!("/v1/courses/{id}/extend"),
            );
            actix_web::rt::spawn(async move {
                let headers = [
                    ("Authorization", auth.as_str()),
                    ("Idempotency-Key", "extend-1"),
                ];
                request(addr, "POST", &path, Some(&json!({"sessions": 2})), &headers).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    assert!(
        replies.iter().all(|r| r.status == 200),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let replayed = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 7);
    assert!(replies.iter().all(|r| r.body == replies[0].body));
    let course = app.get(&format!("/v1/courses/{id}")).await.expect(200);
    assert_eq!(course.body["planned_sessions"], 4);
    assert_eq!(course.body["sessions"].as_array().unwrap().len(), 4);
    // The same key with another body is refused, not applied.
    let other = app
        .send(
            Method::POST,
            &format!("/v1/courses/{id}/extend"),
            Some(json!({"sessions": 1})),
            &[("idempotency-key", "extend-1")],
        )
        .await;
    other.problem(422, "idempotency-key-reused");
}

#[actix_web::test]
async fn a_decomposed_accent_or_a_shouted_domain_is_the_same_email() {
    let app = TestApp::new().await;
    let patient = |email: &str| {
        json!({"given_name": "José", "family_name": "Ortiz", "date_of_birth": "1970-02-03",
               "email": email})
    };
    let first = app
        .post("/v1/patients", patient("jos\u{e9}@clinic.example"))
        .await
        .expect(201);
    for twin in ["jose\u{301}@clinic.example", "JOSe\u{301}@Clinic.EXAMPLE"] {
        let body = app
            .post("/v1/patients", patient(twin))
            .await
            .problem(409, "duplicate");
        assert_eq!(body["existing_id"], first.body["id"], "{twin}");
    }
    // Stored in NFC with the domain folded, so it reads back as one address.
    let stored = app
        .post("/v1/patients", {
            let mut other = patient("Jose\u{301}@Other.Example");
            other["date_of_birth"] = json!("1971-02-03");
            other
        })
        .await
        .expect(201);
    assert_eq!(stored.body["email"], "Jos\u{e9}@other.example");
}
