use actix_web::http::Method;
use prolo_scheduler::config::RateLimits;
use prolo_scheduler::domain::access::Role;
use serde_json::{Value, json};

use crate::support::{Reply, TestApp, TestDatabase};

/// A question from the website, as the contact form sends it.
pub fn question(email: &str) -> Value {
    json!({"name": "Sam Ortiz", "email": email, "kind": "question",
           "message": "Can prolotherapy help my knee?", "consent": true})
}

/// Sends `body` to the public intake without a key.
pub async fn submit(app: &TestApp, body: Value) -> Reply {
    app.send_as(None, Method::POST, "/v1/inquiries", Some(body), &[])
        .await
}

/// Sends `body` to the public intake and returns the new inquiry's id.
pub async fn received(app: &TestApp, body: Value) -> String {
    let reply = submit(app, body).await.expect(201);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn inquiry(app: &TestApp, id: &str) -> Reply {
    app.get(&format!("/v1/inquiries/{id}")).await.expect(200)
}

/// Changes inquiry `id` with its current ETag.
pub async fn triage(app: &TestApp, id: &str, body: Value) -> Reply {
    let etag = inquiry(app, id).await.header("etag").unwrap().to_owned();
    app.patch(&format!("/v1/inquiries/{id}"), &etag, body).await
}

fn at(instant: &str) -> chrono::DateTime<chrono::Utc> {
    instant.parse().unwrap()
}

#[actix_web::test]
async fn a_visitor_sends_an_inquiry_and_is_told_only_its_id() {
    let app = TestApp::new().await;
    app.treatment_area("knee").await;
    let body = json!({
        "name": "Sam Ortiz", "phone": "+1 303 555 0142", "kind": "appointment_request",
        "message": "My left knee hurts on stairs.\nSince last spring.", "consent": true,
        "treatment_area": "knee", "symptom_duration": "3_to_12_months", "preferred_contact": "sms",
        "preferred_times": [{"weekday": "tuesday", "start": "08:00", "end": "12:00"}],
        "source_page": "https://clinic.example/contact", "website": ""
    });
    let reply = submit(&app, body).await.expect(201);
    let keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "status"], "nothing sent is echoed back");
    assert_eq!(reply.body["status"], "new");

    let id = reply.body["id"].as_str().unwrap();
    let seen = inquiry(&app, id).await;
    assert_eq!(seen.header("etag"), Some("\"1\""));
    let seen = seen.body;
    assert_eq!(seen["status"], "new");
    assert_eq!(seen["kind"], "appointment_request");
    assert_eq!(seen["phone"], "+1 303 555 0142");
    assert_eq!(
        seen["message"],
        "My left knee hurts on stairs.\nSince last spring."
    );
    assert!(seen["treatment_area_id"].is_string());
    assert_eq!(seen["symptom_duration"], "3_to_12_months");
    assert_eq!(seen["preferred_contact"], "sms");
    assert_eq!(seen["preferred_times"][0]["weekday"], "tuesday");
    assert_eq!(seen["source_page"], "https://clinic.example/contact");
    assert_eq!(seen["consented_at"], "2027-01-04T15:00:00Z");
    assert_eq!(seen["duplicate_of"], Value::Null);

    // Free-text preferred times are kept as written.
    let mut words = question("words@example.com");
    words["preferred_times"] = json!("weekday mornings before 10");
    let id = received(&app, words).await;
    assert_eq!(
        inquiry(&app, &id).await.body["preferred_times"],
        "weekday mornings before 10"
    );

    let timeline = app
        .get(&format!("/v1/inquiries/{id}/timeline"))
        .await
        .expect(200);
    assert_eq!(timeline.body["items"][0]["action"], "received");
    assert_eq!(timeline.body["items"][0]["key_id"], Value::Null);
    let audit = app
        .get(&format!(
            "/v1/audit-events?resource_type=inquiries&resource_id={id}"
        ))
        .await
        .expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["inquiry.submit", "inquiry.read", "inquiry.timeline"]
    );
    assert_eq!(audit.body["items"][0]["role"], "public");
}

#[actix_web::test]
async fn every_field_of_the_form_is_validated_and_nothing_is_half_written() {
    let app = TestApp::new().await;
    app.treatment_area("knee").await;
    let with = |change: Value| {
        let mut body = question("valid@example.com");
        for (field, value) in change.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(field);
            } else {
                body[field] = value.clone();
            }
        }
        body
    };
    let window = |start: &str, end: &str| json!({"weekday": "monday", "start": start, "end": end});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": null}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "Sam\u{0}Ortiz"}), "body"),
        (json!({"name": "Sam\nOrtiz"}), "name"),
        (json!({"email": null}), "email"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"phone": "call me"}), "phone"),
        (json!({"kind": "complaint"}), "kind"),
        (json!({"kind": null}), "kind"),
        (json!({"message": ""}), "message"),
        (json!({"message": "x".repeat(5001)}), "message"),
        (json!({"message": "hello\u{0}"}), "body"),
        (json!({"message": "bell\u{7}"}), "message"),
        (json!({"email": "sam\u{1b}@example.com"}), "email"),
        (json!({"message": 42}), "message"),
        (json!({"consent": false}), "consent"),
        (json!({"consent": null}), "consent"),
        (json!({"consent": "yes"}), "consent"),
        (json!({"treatment_area": "elbow"}), "treatment_area"),
        (json!({"treatment_area": "Knee!"}), "treatment_area"),
        (json!({"symptom_duration": "forever"}), "symptom_duration"),
        (json!({"preferred_contact": "phone"}), "preferred_contact"),
        (json!({"preferred_contact": "fax"}), "preferred_contact"),
        (
            json!({"preferred_times": [window("09:00", "12:00"), window("12:00", "11:00")]}),
            "preferred_times[1].end",
        ),
        (
            json!({"preferred_times": [{"weekday": "someday", "start": "09:00", "end": "10:00"}]}),
            "preferred_times[0].weekday",
        ),
        (
            json!({"preferred_times": [window("9am", "12:00")]}),
            "preferred_times[0].start",
        ),
        (json!({"preferred_times": []}), "preferred_times"),
        (
            json!({"preferred_times": vec![window("09:00", "10:00"); 15]}),
            "preferred_times",
        ),
        (json!({"preferred_times": " "}), "preferred_times"),
        (json!({"preferred_times": 7}), "preferred_times"),
        (json!({"source_page": "x".repeat(2001)}), "source_page"),
        (json!({"referrer": "google"}), "referrer"),
    ];
    for (change, field) in cases {
        let body = with(change.clone());
        let mut fields = submit(&app, body).await.refused_fields();
        fields.dedup();
        assert_eq!(fields, [field], "for {change}");
    }
    // Without email and phone the problem says what is missing.
    let none = submit(&app, with(json!({"email": null}))).await;
    let problem = none.problem(422, "unprocessable-values");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("email or a phone")
    );
    let all = app.get("/v1/inquiries").await.expect(200);
    assert_eq!(all.body["items"], json!([]), "nothing was stored");
}

#[actix_web::test]
async fn a_filled_honeypot_is_accepted_but_stored_as_spam() {
    let app = TestApp::new().await;
    let mut bot = question("bot@example.com");
    bot["website"] = json!("https://cheap-pills.example");
    let reply = submit(&app, bot).await.expect(201);
    assert_eq!(reply.body["status"], "new", "a bot learns nothing");
    let id = reply.body["id"].as_str().unwrap();
    let stored = inquiry(&app, id).await.body;
    assert_eq!(stored["status"], "spam");
    assert_eq!(stored["closed_at"], "2027-01-04T15:00:00Z");
    let person = received(&app, question("person@example.com")).await;
    assert_eq!(inquiry(&app, &person).await.body["status"], "new");
    let new_only = app.get("/v1/inquiries?status=new").await.expect(200);
    assert_eq!(new_only.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn the_same_email_or_phone_within_a_day_is_linked_as_a_likely_duplicate() {
    let app = TestApp::new().await;
    let mut first = question("sam@example.com");
    first["phone"] = json!("303-555-0142");
    let first = received(&app, first).await;

    app.clock.set(at("2027-01-04T16:00:00Z"));
    let by_email = received(&app, question("SAM@Example.com")).await;
    assert_eq!(inquiry(&app, &by_email).await.body["duplicate_of"], first);

    app.clock.set(at("2027-01-05T14:00:00Z"));
    let mut by_phone = question("other@example.com");
    by_phone["phone"] = json!("(303) 555 0142");
    let by_phone = received(&app, by_phone).await;
    assert_eq!(
        inquiry(&app, &by_phone).await.body["duplicate_of"],
        first,
        "linked to the first of the run"
    );

    // More than a day after the last one: a fresh start.
    app.clock.set(at("2027-01-06T14:00:01Z"));
    let later = received(&app, question("sam@example.com")).await;
    assert_eq!(
        inquiry(&app, &later).await.body["duplicate_of"],
        Value::Null
    );
    let stranger = received(&app, question("stranger@example.com")).await;
    assert_eq!(
        inquiry(&app, &stranger).await.body["duplicate_of"],
        Value::Null
    );
}

#[actix_web::test]
async fn the_intake_is_limited_per_client_ip() {
    let db = TestDatabase::new().await;
    let limits = RateLimits {
        inquiries_per_hour: 2,
        in_flight: 0,
        ..RateLimits::UNLIMITED
    };
    let app = TestApp::with_limits(db, limits).await;
    received(&app, question("a@example.com")).await;
    received(&app, question("b@example.com")).await;
    let limited = submit(&app, question("c@example.com")).await;
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after));
    limited.problem(429, "rate-limited");
    // Invalid bodies spend the allowance too: the limit is checked before the body is read.
    submit(&app, json!({})).await.problem(429, "rate-limited");
    // The front desk, entering a phoned-in inquiry with its key, is not held back.
    let staff = app.key(Role::Staff, None).await;
    app.send_as(
        Some(&staff),
        Method::POST,
        "/v1/inquiries",
        Some(question("phone@example.com")),
        &[],
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn triage_walks_every_transition_and_the_timeline_records_each() {
    let app = TestApp::new().await;
    let id = received(&app, question("sam@example.com")).await;
    let path = format!("/v1/inquiries/{id}");

    app.send(
        Method::PATCH,
        &path,
        Some(json!({"status": "contacted"})),
        &[],
    )
    .await
    .problem(428, "precondition-required");
    app.patch(&path, "\"7\"", json!({"status": "contacted"}))
        .await
        .problem(412, "precondition-failed");

    app.clock.set(at("2027-01-04T15:45:00Z"));
    let staff = app.key(Role::Staff, None).await;
    let staff_id = app
        .send_as(Some(&staff), Method::GET, "/v1/me", None, &[])
        .await
        .body["key_id"]
        .clone();
    let contacted = triage(
        &app,
        &id,
        json!({"status": "contacted", "assignee_key_id": staff_id, "notes": "Left a voicemail."}),
    )
    .await
    .expect(200);
    assert_eq!(contacted.header("etag"), Some("\"2\""));
    assert_eq!(contacted.body["status"], "contacted");
    assert_eq!(contacted.body["first_contacted_at"], "2027-01-04T15:45:00Z");
    assert_eq!(contacted.body["assignee_key_id"], staff_id);
    assert_eq!(contacted.body["notes"], "Left a voicemail.");

    // Only staff and admin keys can be assignees.
    let location = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&location]).await;
    let provider_key = app.key(Role::Provider, Some(&provider)).await;
    let provider_key_id = app
        .send_as(Some(&provider_key), Method::GET, "/v1/me", None, &[])
        .await
        .body["key_id"]
        .clone();
    let fields = triage(&app, &id, json!({"assignee_key_id": provider_key_id}))
        .await
        .broken_rules();
    assert_eq!(fields, ["assignee_key_id"]);

    let refused = triage(&app, &id, json!({"status": "new"}))
        .await
        .problem(409, "invalid-transition");
    assert!(refused["detail"].as_str().unwrap().contains("contacted"));

    app.clock.set(at("2027-01-05T10:00:00Z"));
    let closed = triage(&app, &id, json!({"status": "closed", "notes": null}))
        .await
        .expect(200);
    assert_eq!(closed.body["closed_at"], "2027-01-05T10:00:00Z");
    assert_eq!(closed.body["notes"], Value::Null);
    let reopened = triage(&app, &id, json!({"status": "contacted"}))
        .await
        .expect(200);
    assert_eq!(reopened.body["closed_at"], Value::Null);
    assert_eq!(
        reopened.body["first_contacted_at"], "2027-01-04T15:45:00Z",
        "the first contact stays the first"
    );
    for (status, then) in [
        ("spam", "spam"),
        ("new", "new"),
        ("scheduled", "scheduled"),
        ("closed", "closed"),
    ] {
        let reply = triage(&app, &id, json!({"status": status}))
            .await
            .expect(200);
        assert_eq!(reply.body["status"], then);
    }
    triage(&app, &id, json!({"status": "spam"}))
        .await
        .problem(409, "invalid-transition");
    // Sending what is already there changes nothing.
    let same = triage(&app, &id, json!({"status": "closed"}))
        .await
        .expect(200);
    assert_eq!(same.body["version"], 8);

    let timeline = app.get(&format!("{path}/timeline")).await.expect(200).body["items"].clone();
    let steps: Vec<(String, String, Value)> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["to_status"].as_str().unwrap().to_owned(),
                e["changed"].clone(),
            )
        })
        .collect();
    let expected = [
        ("received", "new", json!([])),
        (
            "updated",
            "contacted",
            json!(["status", "assignee_key_id", "notes"]),
        ),
        ("updated", "closed", json!(["status", "notes"])),
        ("updated", "contacted", json!(["status"])),
        ("updated", "spam", json!(["status"])),
        ("updated", "new", json!(["status"])),
        ("updated", "scheduled", json!(["status"])),
        ("updated", "closed", json!(["status"])),
    ];
    let expected: Vec<(String, String, Value)> = expected
        .into_iter()
        .map(|(a, s, c)| (a.to_owned(), s.to_owned(), c))
        .collect();
    assert_eq!(steps, expected);
    assert_eq!(timeline[1]["assignee_key_id"], staff_id);
}

#[actix_web::test]
async fn the_triage_list_filters_and_search_keeps_personal_values_out_of_urls() {
    let app = TestApp::new().await;
    let knee = app.treatment_area("knee").await;
    let mut about_knee = question("knee@example.com");
    about_knee["treatment_area"] = json!("knee");
    about_knee["kind"] = json!("appointment_request");
    let knee_inquiry = received(&app, about_knee).await;
    app.clock.set(at("2027-01-06T09:00:00Z"));
    let mut reyes = question("jordan.reyes@example.com");
    reyes["name"] = json!("Jordan Reyes");
    let reyes = received(&app, reyes).await;
    let staff = app.key(Role::Staff, None).await;
    let staff_id = app
        .send_as(Some(&staff), Method::GET, "/v1/me", None, &[])
        .await
        .body["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    triage(&app, &reyes, json!({"assignee_key_id": staff_id}))
        .await
        .expect(200);

    let ids = |reply: Reply| -> Vec<String> {
        reply.expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(app
            .get(&format!("/v1/inquiries?treatment_area_id={knee}"))
            .await),
        [knee_inquiry.as_str()]
    );
    assert_eq!(
        ids(app.get("/v1/inquiries?kind=appointment_request").await),
        [knee_inquiry.as_str()]
    );
    assert_eq!(
        ids(app
            .get(&format!("/v1/inquiries?assignee_key_id={staff_id}"))
            .await),
        [reyes.as_str()]
    );
    assert_eq!(
        ids(app
            .get("/v1/inquiries?created_from=2027-01-05T00:00:00Z&created_to=2027-01-07T00:00:00Z")
            .await),
        [reyes.as_str()]
    );
    let first_page = app.get("/v1/inquiries?limit=1").await.expect(200);
    let cursor = first_page.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        ids(app
            .get(&format!("/v1/inquiries?limit=1&cursor={cursor}"))
            .await),
        [reyes.as_str()]
    );
    assert_eq!(
        app.get("/v1/inquiries?status=pending")
            .await
            .invalid_fields(),
        ["status"]
    );
    assert_eq!(
        app.get("/v1/inquiries?created_from=yesterday")
            .await
            .invalid_fields(),
        ["created_from"]
    );
    assert_eq!(
        app.get("/v1/inquiries?q=reyes").await.invalid_fields(),
        ["q"],
        "a name never travels in a URL"
    );
    assert_eq!(
        ids(app
            .post("/v1/inquiries/search", json!({"q": "REYES"}))
            .await),
        [reyes.as_str()]
    );
    assert_eq!(
        ids(app
            .post(
                "/v1/inquiries/search",
                json!({"q": "knee", "status": "new"})
            )
            .await),
        [knee_inquiry.as_str(), reyes.as_str()],
        "q matches the message too"
    );
    assert_eq!(
        app.post("/v1/inquiries/search", json!({"q": "r", "limit": 500}))
            .await
            .invalid_fields()
            .len(),
        2
    );
}

#[actix_web::test]
async fn stats_count_a_known_set_and_measure_the_time_to_first_contact() {
    let app = TestApp::new().await;
    // Five inquiries arrive at 09:00 UTC on consecutive January days; three are contacted after
    // 30, 60⅔ and 150 minutes, one is spam, one is still new. One arrives in February.
    let mut ids = Vec::new();
    for day in 11..=15 {
        app.clock.set(at(&format!("2027-01-{day}T09:00:00Z")));
        let mut body = question(&format!("visitor{day}@example.com"));
        if day % 2 == 0 {
            body["kind"] = json!("appointment_request");
        }
        ids.push(received(&app, body).await);
    }
    for (id, seconds) in ids.iter().zip([30 * 60, 60 * 60 + 40, 150 * 60]) {
        let created = inquiry(&app, id).await.body["created_at"]
            .as_str()
            .unwrap()
            .to_owned();
        app.clock
            .set(at(&created) + chrono::Duration::seconds(seconds));
        triage(&app, id, json!({"status": "contacted"}))
            .await
            .expect(200);
    }
    triage(&app, &ids[2], json!({"status": "scheduled"}))
        .await
        .expect(200);
    triage(&app, &ids[3], json!({"status": "spam"}))
        .await
        .expect(200);
    app.clock.set(at("2027-02-02T09:00:00Z"));
    received(&app, question("february@example.com")).await;

    let january = app
        .get("/v1/inquiries/stats?from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z")
        .await
        .expect(200)
        .body;
    assert_eq!(january["total"], 5);
    assert_eq!(
        january["by_status"],
        json!({"new": 1, "contacted": 2, "scheduled": 1, "closed": 0, "spam": 1})
    );
    assert_eq!(
        january["by_kind"],
        json!({"question": 3, "appointment_request": 2})
    );
    assert_eq!(january["contacted"], 3);
    // 60⅔ minutes, in whole minutes.
    assert_eq!(january["median_minutes_to_first_contact"], 61);

    let all = app.get("/v1/inquiries/stats").await.expect(200).body;
    assert_eq!(all["total"], 6);
    let empty = app
        .get("/v1/inquiries/stats?from=2030-01-01T00:00:00Z")
        .await
        .expect(200)
        .body;
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["median_minutes_to_first_contact"], Value::Null);
    assert_eq!(
        app.get("/v1/inquiries/stats?from=2027-02-01T00:00:00Z&to=2027-01-01T00:00:00Z")
            .await
            .broken_rules(),
        ["to"]
    );
}

#[actix_web::test]
async fn the_documented_form_examples_are_accepted_from_an_allowed_origin() {
    let db = TestDatabase::new().await;
    let app = TestApp::with_cors(db, vec!["https://clinic.example".into()]).await;
    app.treatment_area("knee").await;
    app.treatment_area("elbow").await;
    let preflight = [
        ("origin", "https://clinic.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let allowed = app
        .send_as(None, Method::OPTIONS, "/v1/inquiries", None, &preflight)
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://clinic.example")
    );
    let document = serde_json::to_value(prolo_scheduler::openapi_document()).unwrap();
    let examples = document["components"]["schemas"]["SubmitInquiry"]["examples"]
        .as_array()
        .unwrap()
        .clone();
    assert!(examples.len() >= 2);
    for example in examples {
        let reply = app
            .send_as(
                None,
                Method::POST,
                "/v1/inquiries",
                Some(example.clone()),
                &[("origin", "https://clinic.example")],
            )
            .await;
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://clinic.example")
        );
        reply.expect(201);
    }
}

#[test]
fn the_example_contact_form_sends_exactly_the_documented_fields() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/contact-form.html"
    ))
    .unwrap();
    // The object literal the form's `body()` returns: one `field: value,` a line.
    let start = page
        .find("function body()")
        .expect("the form builds its body");
    let literal = &page[start..];
    let literal = &literal[literal.find("return {").unwrap()..literal.find("};").unwrap()];
    let mut sent: Vec<&str> = literal
        .lines()
        .skip(1)
        .filter_map(|line| line.trim().split_once(':').map(|(field, _)| field))
        .collect();
    sent.sort();
    let document = serde_json::to_value(prolo_scheduler::openapi_document()).unwrap();
    let schema = &document["components"]["schemas"]["SubmitInquiry"];
    let mut documented: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort();
    assert_eq!(sent, documented);
}
