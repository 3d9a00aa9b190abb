use actix_web::http::Method;
use prolo_scheduler::domain::access::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, TestDatabase};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// No key involved at all (probes, docs).
    Open,
    /// No key needed; a key sent must be valid.
    Public,
    /// A key of one of these roles.
    Keys(&'static [Role]),
}

const ADMIN: Rule = Rule::Keys(&[Role::Admin]);
const STAFF: Rule = Rule::Keys(&[Role::Admin, Role::Staff]);
/// Those who treat patients: the front desk and the clinicians.
const CLINICIAN: Rule = Rule::Keys(&[Role::Admin, Role::Staff, Role::Provider]);
/// Bulk reads of the clinic's records.
const READER: Rule = Rule::Keys(&[Role::Admin, Role::Staff, Role::Integration]);
const EVENTS: Rule = Rule::Keys(&[Role::Admin, Role::Integration]);
const ANY_KEY: Rule = Rule::Keys(&[Role::Admin, Role::Staff, Role::Provider, Role::Integration]);

/// The authorization matrix: every operation of the OpenAPI document must be listed here.
const MATRIX: &[(&str, Rule)] = &[
    ("healthz", Rule::Open),
    ("readyz", Rule::Open),
    ("describe_problem_type", Rule::Open),
    ("create_api_key", ADMIN),
    ("list_api_keys", ADMIN),
    ("revoke_api_key", ADMIN),
    ("me", ANY_KEY),
    ("list_audit_events", ADMIN),
    ("list_events", EVENTS),
    ("create_patient", STAFF),
    ("list_patients", READER),
    ("search_patients", STAFF),
    ("get_patient", ANY_KEY),
    ("update_patient", STAFF),
    ("archive_patient", STAFF),
    ("find_availability", Rule::Public),
    ("plan_course", STAFF),
    ("create_course", STAFF),
    ("list_courses", ANY_KEY),
    ("get_course", ANY_KEY),
    ("change_course_status", STAFF),
    ("cancel_course", STAFF),
    ("extend_course", STAFF),
    ("update_course", STAFF),
    ("patient_courses", STAFF),
    ("book_session", STAFF),
    ("list_sessions", ANY_KEY),
    ("get_session", ANY_KEY),
    ("session_history", ANY_KEY),
    ("reschedule_session", STAFF),
    ("cancel_session", STAFF),
    ("confirm_session", STAFF),
    ("check_in_session", STAFF),
    ("complete_session", CLINICIAN),
    ("no_show_session", STAFF),
    ("submit_inquiry", Rule::Public),
    ("list_inquiries", STAFF),
    ("search_inquiries", STAFF),
    ("inquiry_stats", STAFF),
    ("get_inquiry", STAFF),
    ("update_inquiry", STAFF),
    ("inquiry_timeline", STAFF),
    ("convert_inquiry", STAFF),
    ("create_location", ADMIN),
    ("list_locations", Rule::Public),
    ("get_location", Rule::Public),
    ("update_location", ADMIN),
    ("archive_location", ADMIN),
    ("create_treatment_area", ADMIN),
    ("list_treatment_areas", Rule::Public),
    ("get_treatment_area", Rule::Public),
    ("update_treatment_area", ADMIN),
    ("archive_treatment_area", ADMIN),
    ("create_provider", ADMIN),
    ("list_providers", Rule::Public),
    ("get_provider", Rule::Public),
    ("update_provider", ADMIN),
    ("archive_provider", ADMIN),
    ("provider_schedule", ANY_KEY),
    ("get_working_hours", Rule::Public),
    ("replace_working_hours", ADMIN),
    ("create_resource", ADMIN),
    ("list_resources", ANY_KEY),
    ("get_resource", ANY_KEY),
    ("update_resource", ADMIN),
    ("archive_resource", ADMIN),
    ("create_downtime", ADMIN),
    ("list_downtime", ANY_KEY),
    ("delete_downtime", ADMIN),
    ("create_time_off", ADMIN),
    ("list_time_off", ANY_KEY),
    ("delete_time_off", ADMIN),
    ("get_settings", ANY_KEY),
    ("update_settings", ADMIN),
    ("list_notifications", READER),
    ("get_notification", READER),
    ("resend_notification", STAFF),
    ("unsubscribe_page", Rule::Public),
    ("unsubscribe", Rule::Public),
    ("booking_page", Rule::Public),
    ("availability_days", Rule::Public),
    ("next_availability", Rule::Public),
    ("create_hold", Rule::Public),
    ("create_booking", Rule::Public),
    ("verify_booking", Rule::Public),
    ("get_managed", Rule::Public),
    ("cancel_managed", Rule::Public),
    ("reschedule_managed", Rule::Public),
    ("join_waitlist_managed", Rule::Public),
    ("create_waitlist_entry", STAFF),
    ("list_waitlist", STAFF),
    ("get_waitlist_entry", STAFF),
    ("update_waitlist_entry", STAFF),
    ("cancel_waitlist_entry", STAFF),
    ("waitlist_matches", STAFF),
    ("get_waitlist_offer", Rule::Public),
    ("accept_waitlist_offer", Rule::Public),
    ("create_webhook_endpoint", ADMIN),
    ("list_webhook_endpoints", ADMIN),
    ("get_webhook_endpoint", ADMIN),
    ("update_webhook_endpoint", ADMIN),
    ("delete_webhook_endpoint", ADMIN),
    ("rotate_webhook_secret", ADMIN),
    ("test_webhook_endpoint", ADMIN),
    ("list_webhook_deliveries", ADMIN),
    ("retry_webhook_delivery", ADMIN),
    ("create_calendar_feed", CLINICIAN),
    ("delete_calendar_feed", CLINICIAN),
    ("calendar_feed", Rule::Public),
];

#[actix_web::test]
async fn every_operation_answers_each_caller_as_the_matrix_says() {
    let app = TestApp::new().await;
    let location = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&location]).await;
    let staff = app.key(Role::Staff, None).await;
    let provider_key = app.key(Role::Provider, Some(&provider)).await;
    let integration = app.key(Role::Integration, None).await;
    let expired = app
        .key_with(
            Role::Admin,
            None,
            Some(app.now() - chrono::Duration::minutes(1)),
        )
        .await;
    let revoked = app.key(Role::Admin, None).await;
    let revoked_id = app
        .send_as(Some(&revoked), Method::GET, "/v1/me", None, &[])
        .await
        .body["key_id"]
        .clone();
    app.delete(&format!("/v1/api-keys/{}", revoked_id.as_str().unwrap()))
        .await
        .expect(204);

    let document: Value = serde_json::to_value(prolo_scheduler::openapi_document()).unwrap();
    let mut checked = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            let rule = MATRIX
                .iter()
                .find(|(op, _)| *op == id)
                .map(|(_, rule)| *rule)
                .unwrap_or_else(|| panic!("{id} has no entry in the authorization matrix"));
            let declares_bearer = operation["security"].to_string().contains("bearer");
            assert_eq!(
                declares_bearer,
                !matches!(rule, Rule::Open | Rule::Public),
                "{id}: OpenAPI security disagrees with the matrix"
            );
            let path = template
                .replace("{id}", &provider)
                .replace("{time_off_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{downtime_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{slug}", "not-found");
            let method: Method = method.to_uppercase().parse().unwrap();
            let body = operation.get("requestBody").map(|_| json!({}));
            let callers: [(&str, Option<&str>); 7] = [
                ("no key", None),
                ("revoked key", Some(&revoked)),
                ("expired key", Some(&expired)),
                ("admin", Some(&app.admin_key)),
                ("staff", Some(&staff)),
                ("provider", Some(&provider_key)),
                ("integration", Some(&integration)),
            ];
            for (who, key) in callers {
                let reply = app
                    .send_as(
                        key,
                        method.clone(),
                        &path,
                        body.clone(),
                        &[("if-match", "\"999\"")],
                    )
                    .await;
                let status = reply.status.as_u16();
                let role = match who {
                    "admin" => Some(Role::Admin),
                    "staff" => Some(Role::Staff),
                    "provider" => Some(Role::Provider),
                    "integration" => Some(Role::Integration),
                    _ => None,
                };
                let expected = match (rule, who) {
                    (Rule::Open, _) => None,
                    (_, "revoked key" | "expired key") => Some(401),
                    (Rule::Public, _) => None,
                    (_, "no key") => Some(401),
                    (Rule::Keys(roles), _) if role.is_some_and(|r| roles.contains(&r)) => None,
                    _ => Some(403),
                };
                match expected {
                    Some(code) => assert_eq!(status, code, "{id} as {who}: {:#}", reply.body),
                    None => assert!(
                        status != 401 && status != 403,
                        "{id} as {who} was refused: {:#}",
                        reply.body
                    ),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        MATRIX.len() * 7,
        "every matrix entry is an operation"
    );
}

#[actix_web::test]
async fn a_provider_key_sees_only_its_own_schedule() {
    let app = TestApp::new().await;
    let location = app.location("Denver", "America/Denver").await;
    let a = app.provider(&[], &[&location]).await;
    let b = app.provider(&[], &[&location]).await;
    let a_key = app.key(Role::Provider, Some(&a)).await;
    let own = app
        .send_as(
            Some(&a_key),
            Method::GET,
            &format!("/v1/providers/{a}/time-off"),
            None,
            &[],
        )
        .await;
    own.expect(200);
    let other = app
        .send_as(
            Some(&a_key),
            Method::GET,
            &format!("/v1/providers/{b}/time-off"),
            None,
            &[],
        )
        .await;
    other.problem(404, "not-found");
    let me = app
        .send_as(Some(&a_key), Method::GET, "/v1/me", None, &[])
        .await
        .expect(200);
    assert_eq!(me.body["provider_id"], a.as_str());
    assert_eq!(me.body["role"], "provider");
}

#[actix_web::test]
async fn keys_are_created_shown_once_used_and_revoked() {
    let app = TestApp::new().await;
    let created = app
        .post(
            "/v1/api-keys",
            json!({"role": "staff", "label": "Front desk"}),
        )
        .await
        .expect(201);
    let secret = created.body["key"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("prolo_") && secret.len() >= 6 + 64);
    assert!(secret.starts_with(created.body["prefix"].as_str().unwrap()));

    let listed = app.get("/v1/api-keys").await.expect(200);
    let text = listed.body.to_string();
    assert!(!text.contains(&secret), "the secret is never listed");
    assert!(text.contains(&id));

    let me = app
        .send_as(Some(&secret), Method::GET, "/v1/me", None, &[])
        .await
        .expect(200);
    assert_eq!(me.body["role"], "staff");
    assert_eq!(me.body["label"], "Front desk");
    let used = app.get("/v1/api-keys?limit=100").await;
    let entry = used.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(entry["last_used_at"].is_string());

    app.delete(&format!("/v1/api-keys/{id}")).await.expect(204);
    let refused = app
        .send_as(Some(&secret), Method::GET, "/v1/me", None, &[])
        .await;
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    refused.problem(401, "unauthorized");
    app.delete(&format!("/v1/api-keys/{id}")).await.expect(204);
    app.delete(&format!("/v1/api-keys/{}", uuid::Uuid::now_v7()))
        .await
        .problem(404, "not-found");
    // The key a request is made with cannot revoke itself: its holder would be locked out.
    let own = app.get("/v1/me").await.expect(200).body["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .delete(&format!("/v1/api-keys/{own}"))
        .await
        .problem(422, "unprocessable-values");
    assert_eq!(refused["errors"][0]["field"], "id");
    app.get("/v1/me").await.expect(200);
}

#[actix_web::test]
async fn key_requests_are_validated() {
    let app = TestApp::new().await;
    let reply = app
        .post("/v1/api-keys", json!({"role": "provider", "label": "Dr"}))
        .await;
    assert_eq!(reply.broken_rules(), ["provider_id"]);
    let reply = app
        .post(
            "/v1/api-keys",
            json!({"role": "staff", "label": "x", "provider_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(reply.broken_rules(), ["provider_id"]);
    // A real provider does not make a provider-bound key of another role (found by
    // schemathesis: it was a 500 from the database's check).
    let location = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&location]).await;
    let reply = app
        .post(
            "/v1/api-keys",
            json!({"role": "integration", "label": "x", "provider_id": provider}),
        )
        .await;
    assert_eq!(reply.broken_rules(), ["provider_id"]);
    let reply = app
        .post("/v1/api-keys", json!({"role": "root", "label": "x"}))
        .await;
    assert_eq!(reply.invalid_fields(), ["role"]);
    let reply = app
        .post(
            "/v1/api-keys",
            json!({"role": "staff", "label": "x", "expires_at": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(reply.broken_rules(), ["expires_at"]);
    let ghost = uuid::Uuid::now_v7();
    let reply = app
        .post(
            "/v1/api-keys",
            json!({"role": "provider", "label": "x", "provider_id": ghost}),
        )
        .await;
    assert_eq!(reply.broken_rules(), ["provider_id"]);
}

#[actix_web::test]
async fn refusals_and_key_changes_leave_exactly_one_audit_event_each() {
    let app = TestApp::new().await;
    let staff = app.key(Role::Staff, None).await;
    let staff_id = app
        .send_as(Some(&staff), Method::GET, "/v1/me", None, &[])
        .await
        .body["key_id"]
        .clone();

    let forbidden = app
        .send_as(
            Some(&staff),
            Method::POST,
            "/v1/locations",
            Some(json!({})),
            &[],
        )
        .await;
    forbidden.problem(403, "forbidden");
    app.send_as(None, Method::GET, "/v1/api-keys", None, &[])
        .await
        .problem(401, "unauthorized");
    let created = app
        .post("/v1/api-keys", json!({"role": "staff", "label": "Desk 2"}))
        .await
        .expect(201);
    // Reading the public catalog touches no patient data: no event.
    app.send_as(None, Method::GET, "/v1/locations", None, &[])
        .await
        .expect(200);
    // Refusals without a key are counted per client and minute, written once it is over.
    end_the_minute(&app).await;

    let events = app.get("/v1/audit-events?limit=100").await.expect(200).body["items"].clone();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 3, "{events:#?}");
    assert_eq!(events[0]["outcome"], "denied");
    assert_eq!(events[0]["status"], 403);
    assert_eq!(events[0]["key_id"], staff_id);
    assert_eq!(events[0]["role"], "staff");
    assert_eq!(events[0]["action"], "POST /v1/locations");
    assert!(events[0]["request_id"].is_string());
    assert_eq!(events[1]["action"], "api_key.create");
    assert_eq!(events[1]["resource_id"], created.body["id"]);
    assert_eq!(events[1]["outcome"], "success");
    assert_eq!(events[2]["action"], "auth.refused");
    assert_eq!(events[2]["status"], 401);
    assert_eq!(events[2]["count"], 1);
    assert_eq!(events[2]["key_id"], Value::Null);

    let by_key = app
        .get(&format!(
            "/v1/audit-events?key_id={}",
            staff_id.as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(by_key.body["items"].as_array().unwrap().len(), 1);
    let by_resource = app
        .get("/v1/audit-events?resource_type=api-keys")
        .await
        .expect(200);
    assert_eq!(by_resource.body["items"].as_array().unwrap().len(), 1);
    let later = app
        .get("/v1/audit-events?from=2999-01-01T00:00:00Z")
        .await
        .expect(200);
    assert!(later.body["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn the_audit_trail_cannot_be_changed_or_deleted_by_the_application_role() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    app.send_as(None, Method::GET, "/v1/api-keys", None, &[])
        .await
        .problem(401, "unauthorized");
    end_the_minute(&app).await;
    // The same role and connection string the service uses.
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    for statement in [
        "UPDATE audit_events SET outcome = 'success'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let error = conn.batch_execute(statement).await.expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    let events = app.get("/v1/audit-events").await.expect(200);
    assert_eq!(events.body["items"][0]["outcome"], "denied");
}

/// Moves the clock past the current minute and sends a request, so that the minute's tally of
/// refusals without a key is written.
async fn end_the_minute(app: &TestApp) {
    app.clock.set(app.now() + chrono::Duration::seconds(61));
    app.get("/v1/me").await.expect(200);
}

#[actix_web::test]
async fn refusals_without_a_key_leave_one_event_per_client_and_minute_with_their_count() {
    let app = TestApp::new().await;
    for n in 0..30 {
        let key = (n % 2 == 0).then_some("prolo_not-a-key");
        app.send_as(key, Method::GET, "/v1/sessions", None, &[])
            .await
            .problem(401, "unauthorized");
    }
    let events = app.get("/v1/audit-events").await.expect(200);
    assert!(
        events.body["items"].as_array().unwrap().is_empty(),
        "nothing is written while the minute lasts"
    );
    let minute = app.now();
    end_the_minute(&app).await;
    app.send_as(None, Method::GET, "/v1/sessions", None, &[])
        .await
        .problem(401, "unauthorized");
    let events = app.get("/v1/audit-events").await.expect(200).body["items"].clone();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["action"], "auth.refused");
    assert_eq!(events[0]["outcome"], "denied");
    assert_eq!(events[0]["count"], 30);
    assert!(events[0]["client"].is_string());
    let written =
        chrono::DateTime::parse_from_rfc3339(events[0]["occurred_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        written.timestamp(),
        minute.timestamp() - minute.timestamp() % 60
    );
}

#[actix_web::test]
async fn a_provider_asking_for_what_it_may_not_see_gets_404_and_leaves_a_denied_event() {
    let app = TestApp::new().await;
    let c = crate::sessions::clinic(&app).await;
    let other = app.provider(&[&c.area], &[&c.location]).await;
    let booked = app
        .post(
            "/v1/sessions",
            c.booking("assessment", "2027-01-05T09:00:00-07:00"),
        )
        .await
        .expect(201);
    let id = booked.body["id"].as_str().unwrap();
    let stranger = app.key(Role::Provider, Some(&other)).await;
    for path in [
        format!("/v1/sessions/{id}"),
        format!("/v1/sessions/{id}/history"),
        format!("/v1/patients/{}", c.patient),
        format!("/v1/providers/{}/schedule?date=2027-01-05", c.provider),
    ] {
        app.send_as(Some(&stranger), Method::GET, &path, None, &[])
            .await
            .problem(404, "not-found");
    }
    // A record that does not exist at all is no probe of anyone's data.
    let nobody = uuid::Uuid::now_v7();
    app.send_as(
        Some(&stranger),
        Method::GET,
        &format!("/v1/sessions/{nobody}"),
        None,
        &[],
    )
    .await
    .problem(404, "not-found");
    let events = app
        .get(&format!(
            "/v1/audit-events?key_id={}",
            key_id(&app, &stranger).await
        ))
        .await
        .expect(200)
        .body["items"]
        .clone();
    let denied: Vec<(String, String, Value)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "denied")
        .map(|e| {
            assert_eq!(e["status"], 404);
            (
                e["action"].as_str().unwrap().to_owned(),
                e["resource_type"].as_str().unwrap().to_owned(),
                e["resource_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        denied,
        [
            ("GET /v1/sessions/{id}".into(), "sessions".into(), json!(id)),
            (
                "GET /v1/sessions/{id}/history".into(),
                "sessions".into(),
                json!(id)
            ),
            (
                "GET /v1/patients/{id}".into(),
                "patients".into(),
                json!(c.patient)
            ),
            (
                "GET /v1/providers/{id}/schedule".into(),
                "providers".into(),
                json!(c.provider)
            ),
        ]
    );
}

async fn key_id(app: &TestApp, key: &str) -> String {
    app.send_as(Some(key), Method::GET, "/v1/me", None, &[])
        .await
        .expect(200)
        .body["key_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn audit_events_past_their_retention_are_purged_in_audited_batches_and_only_then() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    // Events of seven and five years ago, and one of now.
    conn.batch_execute(
        "INSERT INTO audit_events (id, occurred_at, action, resource_type, outcome, status) \
         SELECT gen_random_uuid(), timestamptz '2020-01-01' + i * interval '1 minute', \
                'patient.read', 'patients', 'success', 200 FROM generate_series(1, 7001) i; \
         INSERT INTO audit_events (id, occurred_at, action, resource_type, outcome, status) \
         VALUES (gen_random_uuid(), '2022-01-01', 'patient.read', 'patients', 'success', 200)",
    )
    .await
    .unwrap();
    app.get(&format!("/v1/patients/{}", uuid::Uuid::now_v7()))
        .await
        .expect(404);
    // Declaring a purge does not open the trail to younger rows, or to changes.
    let younger = conn
        .batch_execute(
            "BEGIN; SET LOCAL prolo.audit_purge_before = '2021-01-01'; \
             DELETE FROM audit_events WHERE occurred_at >= '2021-01-01'; COMMIT",
        )
        .await;
    assert!(younger.unwrap_err().to_string().contains("append-only"));
    conn.batch_execute("ROLLBACK").await.unwrap();
    let retention = prolo_scheduler::config::AuditRetentionArgs {
        audit_retention_days: 2192,
    };
    let purged = prolo_scheduler::app::audit::purge_expired(
        &mut conn,
        retention.audit_retention_days,
        app.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        purged, 7001,
        "everything before 2021-01-03, six years before the clock"
    );
    #[derive(diesel::QueryableByName)]
    struct Left {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        old: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        purges: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        purged: i64,
    }
    let left: Left = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT count(*) FILTER (WHERE occurred_at < '2021-01-03') AS old, \
                    count(*) FILTER (WHERE action = 'audit.purge') AS purges, \
                    coalesce(sum(count) FILTER (WHERE action = 'audit.purge'), 0)::bigint AS purged \
             FROM audit_events",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(
        (left.old, left.purges, left.purged),
        (0, 2, 7001),
        "two batches, each audited"
    );
    for statement in [
        "DELETE FROM audit_events",
        "UPDATE audit_events SET status = 1",
    ] {
        let error = conn.batch_execute(statement).await.expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
}

#[actix_web::test]
async fn public_routes_are_limited_per_ip_and_keys_per_key() {
    let db = TestDatabase::new().await;
    let limits = prolo_scheduler::config::RateLimits {
        public_per_minute: 3,
        key_per_minute: 5,
        inquiries_per_hour: 0,
        bookings_per_hour: 0,
        tokens_per_minute: 0,
        in_flight: 0,
    };
    let app = TestApp::with_limits(db, limits).await;
    for _ in 0..3 {
        app.send_as(None, Method::GET, "/v1/locations", None, &[])
            .await
            .expect(200);
    }
    let limited = app
        .send_as(None, Method::GET, "/v1/locations", None, &[])
        .await;
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    limited.problem(429, "rate-limited");

    // Keys have their own allowance (the admin key used one call when the app was built).
    let staff = app.key(Role::Staff, None).await;
    for _ in 0..5 {
        app.send_as(Some(&staff), Method::GET, "/v1/me", None, &[])
            .await
            .expect(200);
    }
    app.send_as(Some(&staff), Method::GET, "/v1/me", None, &[])
        .await
        .problem(429, "rate-limited");
    app.send(Method::GET, "/v1/me", None, &[]).await.expect(200);
}

#[actix_web::test]
async fn cors_answers_only_the_configured_origins() {
    let db = TestDatabase::new().await;
    let app = TestApp::with_cors(db, vec!["https://clinic.example".into()]).await;
    let preflight = [
        ("origin", "https://clinic.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let allowed = app
        .send_as(None, Method::OPTIONS, "/v1/locations", None, &preflight)
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://clinic.example")
    );
    let other = [
        ("origin", "https://evil.example"),
        ("access-control-request-method", "POST"),
    ];
    let refused = app
        .send_as(None, Method::OPTIONS, "/v1/locations", None, &other)
        .await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let simple = app
        .send_as(
            None,
            Method::GET,
            "/v1/locations",
            None,
            &[("origin", "https://clinic.example")],
        )
        .await
        .expect(200);
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://clinic.example")
    );
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    for reply in [app.get("/v1/locations").await, app.get("/v1/nothing").await] {
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert!(
            reply
                .header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
    }
    let docs = app.get("/docs/").await;
    assert!(
        docs.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );
}

#[actix_web::test]
async fn the_cli_creates_lists_and_revokes_keys() {
    use prolo_scheduler::cli::{ApiKeyAction, ApiKeysArgs};
    use prolo_scheduler::config::DatabaseArgs;
    let app = TestApp::new().await;
    let database = DatabaseArgs {
        database_url: Some(app.db.url.clone()),
        data_dir: "/nonexistent".into(),
    };
    let create = ApiKeyAction::Create {
        role: Role::Staff,
        label: "Front desk".into(),
        provider_id: None,
        expires_in_days: Some(30),
    };
    prolo_scheduler::commands::api_keys(ApiKeysArgs {
        action: create,
        database: database.clone(),
    })
    .await
    .unwrap();
    let keys = app.get("/v1/api-keys").await.expect(200).body["items"].clone();
    let desk = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["label"] == "Front desk")
        .unwrap()
        .clone();
    assert!(desk["expires_at"].is_string());
    let id: uuid::Uuid = desk["id"].as_str().unwrap().parse().unwrap();
    let revoke = ApiKeyAction::Revoke { id };
    prolo_scheduler::commands::api_keys(ApiKeysArgs {
        action: revoke,
        database: database.clone(),
    })
    .await
    .unwrap();
    let keys = app.get("/v1/api-keys").await.expect(200).body["items"].clone();
    let desk = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["label"] == "Front desk")
        .unwrap()
        .clone();
    assert_eq!(desk["active"], false);
    let missing = ApiKeyAction::Create {
        role: Role::Provider,
        label: "x".into(),
        provider_id: None,
        expires_in_days: None,
    };
    assert!(
        prolo_scheduler::commands::api_keys(ApiKeysArgs {
            action: missing,
            database
        })
        .await
        .is_err()
    );
}

#[actix_web::test]
async fn the_bootstrap_admin_key_is_ensured_once() {
    let app = TestApp::new().await;
    let secret = "bootstrap-0123456789abcdef0123456789abcdef";
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    prolo_scheduler::commands::ensure_bootstrap_key(&mut conn, secret)
        .await
        .unwrap();
    prolo_scheduler::commands::ensure_bootstrap_key(&mut conn, secret)
        .await
        .unwrap();
    let me = app
        .send_as(Some(secret), Method::GET, "/v1/me", None, &[])
        .await
        .expect(200);
    assert_eq!(me.body["role"], "admin");
    let keys = app.get("/v1/api-keys").await.expect(200).body["items"].clone();
    let bootstrap = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["label"].as_str().unwrap().starts_with("bootstrap"));
    assert_eq!(bootstrap.count(), 1);
    assert!(
        prolo_scheduler::commands::ensure_bootstrap_key(&mut conn, "short")
            .await
            .is_err()
    );
}

#[actix_web::test]
async fn an_integration_key_reads_schedules_and_contacts_but_no_health_information() {
    let app = TestApp::new().await;
    let c = crate::support::clinic::clinic(&app).await;
    let integration = app.key(Role::Integration, None).await;
    let read = |path: String| {
        let (app, key) = (&app, integration.clone());
        async move {
            app.send_as(Some(&key), Method::GET, &path, None, &[])
                .await
                .expect(200)
                .body
        }
    };
    let patient = app
        .get(&format!("/v1/patients/{}", c.patient))
        .await
        .expect(200);
    app.patch(
        &format!("/v1/patients/{}", c.patient),
        patient.header("etag").unwrap(),
        json!({"notes": "Anxious about needles"}),
    )
    .await
    .expect(200);
    let course = app
        .post(
            "/v1/courses",
            json!({"patient_id": c.patient, "treatment_area_id": c.area, "location_id": c.location,
                   "sessions": 2, "first_starts_at": "2027-01-05T09:00:00-07:00", "book": true,
                   "side": "right", "goal": "Climb stairs", "baseline_pain": 7}),
        )
        .await
        .expect(201);
    let first = course.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = course.body["sessions"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.set("2027-01-05T16:10:00Z".parse().unwrap());
    app.post(&format!("/v1/sessions/{first}/check-in"), json!(null))
        .await
        .expect(200);
    app.post(
        &format!("/v1/sessions/{first}/complete"),
        json!({"pain_before": 7, "pain_after": 3, "note": "Tolerated well"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/v1/sessions/{second}/cancel"),
        json!({"reason_code": "illness", "note": "Has the flu"}),
    )
    .await
    .expect(200);
    let session = read(format!("/v1/sessions/{first}")).await;
    assert_eq!(session["status"], "completed");
    assert!(session["clinical_record"].is_null());
    let cancelled = read(format!("/v1/sessions/{second}")).await;
    assert_eq!(cancelled["cancel_reason"], "illness");
    assert!(cancelled["cancel_note"].is_null());
    let listed = read(format!("/v1/sessions?patient_id={}", c.patient)).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["clinical_record"].is_null() && s["cancel_note"].is_null())
    );
    let history = read(format!("/v1/sessions/{second}/history")).await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["reason"].is_null())
    );
    let course_id = course.body["id"].as_str().unwrap();
    let seen = read(format!("/v1/courses/{course_id}")).await;
    assert!(seen["goal"].is_null() && seen["baseline_pain"].is_null());
    let staff_course = app
        .get(&format!("/v1/courses/{course_id}"))
        .await
        .expect(200);
    assert_ne!(
        staff_course.body["progress"], seen["progress"],
        "staff see the pain figures"
    );
    assert!(
        !seen["progress"].to_string().contains("\"before\""),
        "{}",
        seen["progress"]
    );
    assert!(
        seen["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["clinical_record"].is_null())
    );
    let contact = read(format!("/v1/patients/{}", c.patient)).await;
    assert_eq!(contact["email"], "jordan@example.com");
    assert!(contact["notes"].is_null());
    let page = read("/v1/patients".to_owned()).await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["notes"].is_null())
    );
    // What the same records show the front desk.
    let staff_view = app.get(&format!("/v1/sessions/{first}")).await.expect(200);
    assert_eq!(staff_view.body["clinical_record"]["note"], "Tolerated well");
    for forbidden in ["/v1/inquiries", "/v1/audit-events"] {
        let reply = app
            .send_as(Some(&integration), Method::GET, forbidden, None, &[])
            .await;
        assert_eq!(reply.status.as_u16(), 403, "{forbidden}");
    }
}
