//! Webhooks to a real receiver that checks every request with the Standard Webhooks reference
//! verifier: registration, thin signed bodies, the retry schedule, 410 and five days of
//! failures, secret rotation, pings, and the addresses a delivery may never reach.

use chrono::Duration;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::TestDatabase;
use crate::support::clinic::{Clinic, clinic};
use crate::support::webhooks::{Receiver, hook_round, webhook_worker};

/// Registers `name` of the receiver for `event_types` (all when `None`); its id and secret,
/// which the receiver is told to verify with.
async fn register(
    app: &TestApp,
    receiver: &Receiver,
    name: &str,
    event_types: Option<Value>,
) -> (String, String) {
    let mut body = json!({"url": receiver.url(name), "description": "billing"});
    if let Some(types) = event_types {
        body["event_types"] = types;
    }
    let created = app
        .post("/v1/webhook-endpoints", body)
        .await
        .expect(201)
        .body;
    let secret = created["secret"].as_str().unwrap().to_owned();
    receiver.trust(name, &[&secret]);
    (created["id"].as_str().unwrap().to_owned(), secret)
}

async fn book(app: &TestApp, c: &Clinic, starts_at: &str) -> String {
    app.post("/v1/sessions", c.booking("assessment", starts_at))
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    app.get(&format!("/v1/webhook-endpoints/{endpoint}/deliveries"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn endpoint(app: &TestApp, id: &str) -> crate::support::Reply {
    app.get(&format!("/v1/webhook-endpoints/{id}"))
        .await
        .expect(200)
}

#[actix_web::test]
async fn a_booking_reaches_the_endpoint_signed_thin_and_verified_by_the_reference_library() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&app, &receiver, "billing", Some(json!(["session.booked"]))).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    // The secret is answered once, never again.
    let shown = endpoint(&app, &id).await.body;
    assert!(shown.get("secret").is_none() && !shown.to_string().contains(&secret[6..]));
    assert_eq!(shown["enabled"], true);
    let session = book(&app, &c, "2027-01-05T10:00:00-07:00").await;

    let round = hook_round(&webhook_worker(&app, true)).await;
    assert_eq!(round.delivered, 1, "{round:?}");
    let got = receiver.received_by("billing");
    assert_eq!(got.len(), 1);
    let hook = &got[0];
    assert_eq!(
        hook.verified,
        [0],
        "the reference verifier accepts the signature"
    );
    assert_eq!(hook.content_type.as_deref(), Some("application/json"));
    // The body is the event as the log lists it, under Standard Webhooks' envelope.
    let logged = app
        .get("/v1/events?types=session.booked")
        .await
        .expect(200)
        .body;
    let event = &logged["items"][0];
    let body = hook.json();
    assert_eq!(body["type"], "session.booked");
    assert_eq!(body["data"], *event);
    assert_eq!(body["timestamp"], event["occurred_at"]);
    assert_eq!(body["data"]["subject"]["id"], session.as_str());
    assert_eq!(hook.header("webhook-id"), event["id"].as_str().unwrap());
    // Thin: nothing of the patient but their id.
    for personal in ["Jordan", "jordan@example.com", "1968"] {
        assert!(!hook.body.contains(personal), "{personal} in {}", hook.body);
    }
    let listed = deliveries(&app, &id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["event_id"], event["id"]);
    assert_eq!(listed[0]["attempts"][0]["status_code"], 200);
    assert_eq!(listed[0]["attempts"][0]["response"], "ok");
    assert!(listed[0]["attempts"][0]["latency_ms"].as_i64().unwrap() >= 0);
}

#[actix_web::test]
async fn a_failed_attempt_is_retried_by_the_schedule_with_the_same_id() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    let (id, _) = register(&app, &receiver, "crm", Some(json!(["session.booked"]))).await;
    receiver.answer("crm", "flaky");
    book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    let worker = webhook_worker(&app, true);
    let first = hook_round(&worker).await;
    assert_eq!((first.delivered, first.failed), (0, 1));
    let waiting = &deliveries(&app, &id).await[0];
    assert_eq!(waiting["status"], "pending");
    assert_eq!(waiting["attempts"][0]["status_code"], 500);
    assert_eq!(waiting["attempts"][0]["response"], "status 500");
    // The schedule: 5 seconds before the second attempt.
    let due: chrono::DateTime<chrono::Utc> = waiting["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due, app.now() + Duration::seconds(5));
    assert_eq!(hook_round(&worker).await.delivered, 0, "not due yet");
    app.clock.set(app.now() + Duration::seconds(5));
    assert_eq!(hook_round(&worker).await.delivered, 1);
    let got = receiver.received_by("crm");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert!(got.iter().all(|hook| hook.verified == [0]));
    let done = &deliveries(&app, &id).await[0];
    assert_eq!(done["status"], "delivered");
    assert_eq!(done["attempts"].as_array().unwrap().len(), 2);
    assert!(done["next_attempt_at"].is_null());
}

#[actix_web::test]
async fn a_410_disables_the_endpoint_until_an_admin_enables_it_and_retries() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    let (id, _) = register(&app, &receiver, "gone", Some(json!(["session.booked"]))).await;
    receiver.answer("gone", "410");
    book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    let worker = webhook_worker(&app, true);
    hook_round(&worker).await;
    let disabled = endpoint(&app, &id).await;
    assert_eq!(disabled.body["enabled"], false);
    assert!(
        disabled.body["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    let failed = &deliveries(&app, &id).await[0];
    assert_eq!(failed["status"], "failed");
    let audit = app
        .get(&format!("/v1/audit-events?resource_id={id}"))
        .await
        .expect(200)
        .body;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"webhook_endpoint.disable"), "{actions:?}");
    // Disabled, it is sent nothing.
    book(&app, &c, "2027-01-06T10:00:00-07:00").await;
    hook_round(&worker).await;
    assert_eq!(receiver.received_by("gone").len(), 1);

    receiver.answer("gone", "200");
    let etag = disabled.header("etag").unwrap().to_owned();
    let enabled = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &etag,
            json!({"enabled": true}),
        )
        .await
        .expect(200);
    assert!(enabled.body["disabled_reason"].is_null());
    let delivery = failed["id"].as_str().unwrap();
    let retried = app
        .post(
            &format!("/v1/webhook-endpoints/deliveries/{delivery}/retry"),
            json!({}),
        )
        .await
        .expect(202);
    assert_eq!(retried.body["status"], "pending");
    assert_eq!(hook_round(&worker).await.delivered, 1);
    assert_eq!(
        deliveries(&app, &id).await.last().unwrap()["status"],
        "delivered"
    );
}

#[actix_web::test]
async fn five_days_of_failures_disable_the_endpoint_with_an_audit_event() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    let (id, _) = register(&app, &receiver, "down", Some(json!(["session.booked"]))).await;
    receiver.answer("down", "503");
    book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    let worker = webhook_worker(&app, true);
    hook_round(&worker).await;
    let failing = endpoint(&app, &id).await.body;
    assert_eq!(failing["enabled"], true);
    assert_eq!(failing["failing_since"], "2027-01-04T15:00:00Z");
    // Four days on, still failing: still enabled.
    app.clock.set(app.now() + Duration::days(4));
    hook_round(&worker).await;
    assert_eq!(endpoint(&app, &id).await.body["enabled"], true);
    app.clock.set(app.now() + Duration::days(1));
    book(&app, &c, "2027-01-12T10:00:00-07:00").await;
    hook_round(&worker).await;
    let disabled = endpoint(&app, &id).await.body;
    assert_eq!(disabled["enabled"], false);
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("5 days"),
        "{disabled}"
    );
}

#[actix_web::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    let (id, old) = register(&app, &receiver, "ehr", None).await;
    let rotated = app
        .post(
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            json!({}),
        )
        .await
        .expect(200)
        .body;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        rotated["previous_secret_expires_at"],
        "2027-01-05T15:00:00Z"
    );
    receiver.trust("ehr", &[&old, &new]);
    let worker = webhook_worker(&app, true);
    book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    hook_round(&worker).await;
    let during = receiver.received_by("ehr");
    let booked = during
        .iter()
        .find(|h| h.json()["type"] == "session.booked")
        .unwrap();
    assert_eq!(booked.verified, [0, 1], "both secrets verify");
    assert_eq!(booked.header("webhook-signature").split(' ').count(), 2);
    // A day later only the new one signs.
    app.clock
        .set(app.now() + Duration::hours(24) + Duration::seconds(1));
    app.post(&format!("/v1/webhook-endpoints/{id}/test"), json!({}))
        .await
        .expect(202);
    hook_round(&worker).await;
    let after = receiver.received_by("ehr");
    let ping = after.last().unwrap();
    assert_eq!(ping.json()["type"], "ping");
    assert_eq!(ping.verified, [1]);
    assert_eq!(ping.header("webhook-signature").split(' ').count(), 1);
}

#[actix_web::test]
async fn a_test_ping_goes_whatever_the_event_types() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (id, _) = register(&app, &receiver, "ping", Some(json!(["session.cancelled"]))).await;
    let queued = app
        .post(&format!("/v1/webhook-endpoints/{id}/test"), json!({}))
        .await
        .expect(202)
        .body;
    assert_eq!(
        (queued["event_type"].as_str(), queued["status"].as_str()),
        (Some("ping"), Some("pending"))
    );
    assert_eq!(hook_round(&webhook_worker(&app, true)).await.delivered, 1);
    let got = receiver.received_by("ping");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["endpoint_id"], id.as_str());
    assert_eq!(got[0].verified, [0]);
}

#[actix_web::test]
async fn only_the_event_types_asked_for_are_sent() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    register(
        &app,
        &receiver,
        "cancels",
        Some(json!(["session.cancelled"])),
    )
    .await;
    let session = book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    app.post(
        &format!("/v1/sessions/{session}/cancel"),
        json!({"reason_code": "illness"}),
    )
    .await
    .expect(200);
    hook_round(&webhook_worker(&app, true)).await;
    let types: Vec<Value> = receiver
        .received_by("cancels")
        .iter()
        .map(|h| h.json()["type"].clone())
        .collect();
    assert_eq!(types, [json!("session.cancelled")]);
}

#[actix_web::test]
async fn deliveries_never_reach_private_addresses_unless_allowed_nor_follow_redirects() {
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let receiver = Receiver::start().await;
    let types = Some(json!(["session.booked"]));
    // A name that resolves to loopback, and a literal loopback address.
    let by_name = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": format!("http://localhost:{}/named", receiver.port), "event_types": types}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (literal, _) = register(&app, &receiver, "literal", types.clone()).await;
    book(&app, &c, "2027-01-05T10:00:00-07:00").await;
    // A worker as production runs it: private addresses refused at delivery.
    let strict = webhook_worker(&app, false);
    hook_round(&strict).await;
    assert!(
        receiver.received().is_empty(),
        "nothing reached the loopback receiver"
    );
    for id in [&by_name, &literal] {
        let attempt = &deliveries(&app, id).await[0]["attempts"][0];
        assert!(attempt["status_code"].is_null());
        assert!(
            attempt["error"].as_str().unwrap().contains("not public"),
            "{attempt}"
        );
    }

    // A redirect is an answer like any other: not followed, tried again later.
    let (redirecting, _) = register(&app, &receiver, "moved", types).await;
    receiver.answer("moved", "redirect");
    book(&app, &c, "2027-01-06T10:00:00-07:00").await;
    hook_round(&webhook_worker(&app, true)).await;
    let attempt = &deliveries(&app, &redirecting).await[0]["attempts"][0];
    assert_eq!(attempt["status_code"], 302);
    assert!(receiver.received_by("moved-redirected").is_empty());
}

#[actix_web::test]
async fn endpoint_urls_and_event_types_are_checked_and_an_endpoint_can_go() {
    let strict = TestApp::with_strict_webhooks(TestDatabase::new().await).await;
    for (url, says) in [
        ("http://hooks.example/prolo", "https"),
        ("https://127.0.0.1/prolo", "non-public"),
        ("https://[::1]/prolo", "non-public"),
        ("https://169.254.169.254/latest", "non-public"),
        ("https://user:pw@hooks.example/", "credentials"),
    ] {
        let refused = strict
            .post("/v1/webhook-endpoints", json!({"url": url}))
            .await
            .problem(422, "unprocessable-values");
        assert_eq!(refused["errors"][0]["field"], "url", "{url}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    strict
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example/prolo"}),
        )
        .await
        .expect(201);

    let app = TestApp::new().await;
    let refused = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example/", "event_types": ["session.booked", "session.nope"]}),
        )
        .await
        .problem(422, "unprocessable-values");
    assert_eq!(refused["errors"][0]["field"], "event_types[1]");
    app.post(
        "/v1/webhook-endpoints",
        json!({"url": "https://hooks.example/", "secret": "mine"}),
    )
    .await
    .problem(400, "validation-failed");
    let (id, _) = register(&app, &Receiver::start().await, "x", None).await;
    let path = format!("/v1/webhook-endpoints/{id}");
    let listed = app.get("/v1/webhook-endpoints").await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none());
    app.send_as(
        Some(&app.admin_key.clone()),
        actix_web::http::Method::PATCH,
        &path,
        Some(json!({"enabled": false})),
        &[],
    )
    .await
    .problem(428, "precondition-required");
    app.delete(&path).await.expect(204);
    app.get(&path).await.problem(404, "not-found");
    let staff = app
        .key(prolo_scheduler::domain::access::Role::Staff, None)
        .await;
    app.send_as(
        Some(&staff),
        actix_web::http::Method::GET,
        "/v1/webhook-endpoints",
        None,
        &[],
    )
    .await
    .problem(403, "forbidden");
}
