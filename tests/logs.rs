use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::http::Method;
use serde_json::json;

use crate::support::TestApp;

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, from the moment the first test asks for them. Global
/// rather than per-thread: a thread-local subscriber can miss events whose interest was cached
/// by another thread.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        captured
    })
}

#[actix_web::test]
async fn no_personal_values_reach_the_logs() {
    let captured = captured();

    let app = TestApp::new().await;
    let canaries = [
        "Zeta Canary-7731",
        "zeta7731@canary.example",
        "+1-555-0107-731",
        "1977-03-31",
    ];
    let location = app.location(canaries[0], "America/Denver").await;
    let provider = app
        .post(
            "/v1/providers",
            json!({"name": canaries[0], "bio": format!("{} {}", canaries[1], canaries[2]),
                   "treatment_area_ids": [], "location_ids": [location]}),
        )
        .await
        .expect(201);
    let id = provider.body["id"].as_str().unwrap();
    // Values in query strings, in rejected bodies, and from refused callers.
    app.get(&format!("/v1/providers?cursor={}", canaries[1]))
        .await
        .expect(400);
    app.get(&format!("/v1/providers/{id}/time-off?from={}", canaries[3]))
        .await
        .expect(400);
    app.post(
        "/v1/locations",
        json!({"name": canaries[0], "time_zone": canaries[2]}),
    )
    .await
    .expect(422);
    app.send_as(
        None,
        Method::POST,
        "/v1/locations",
        Some(json!({"name": canaries[1]})),
        &[],
    )
    .await
    .expect(401);
    app.send_as(Some(canaries[1]), Method::GET, "/v1/me", None, &[])
        .await
        .expect(401);
    app.patch(
        &format!("/v1/providers/{id}"),
        "\"1\"",
        json!({"bio": canaries[3]}),
    )
    .await
    .expect(200);
    // An inquiry from the website: sent, refused, searched for, triaged and converted.
    let inquiry = json!({"name": canaries[0], "email": canaries[1], "phone": canaries[2],
                         "kind": "question", "message": canaries[0], "consent": true});
    let sent = app
        .send_as(
            None,
            Method::POST,
            "/v1/inquiries",
            Some(inquiry.clone()),
            &[],
        )
        .await
        .expect(201);
    let mut refused = inquiry;
    refused["consent"] = json!(false);
    app.send_as(None, Method::POST, "/v1/inquiries", Some(refused), &[])
        .await
        .expect(400);
    app.post("/v1/inquiries/search", json!({"q": canaries[0]}))
        .await
        .expect(200);
    let inquiry_id = sent.body["id"].as_str().unwrap();
    app.patch(
        &format!("/v1/inquiries/{inquiry_id}"),
        "\"1\"",
        json!({"notes": canaries[2]}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/v1/inquiries/{inquiry_id}/convert"),
        json!({"patient": {"date_of_birth": canaries[3]}}),
    )
    .await
    .expect(200);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("route=\"/v1/providers/{id}\""),
        "the access log was captured:\n{logs}"
    );
    assert!(logs.contains("status=401"));
    for canary in canaries {
        assert!(
            !logs.contains(canary),
            "{canary} leaked into the logs:\n{logs}"
        );
    }
    assert!(!logs.contains(&app.admin_key), "a key leaked into the logs");
}
