//! The key cache: a key a replica has cached stops working there within a second of its
//! revocation elsewhere (through the API, or straight in the database as the CLI does), of its
//! provider's archival, and while the replica's listener is away its cache is not believed.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use diesel_async::SimpleAsyncConnection;
use prolo_scheduler::domain::access::Role;
use prolo_scheduler::http::state::AppState;
use prolo_scheduler::models::api_keys::LISTENER_NAME;

use crate::support::{BoxedService, TestApp, send};

/// Another replica over the app's database, once its listener is connected.
async fn replica(app: &TestApp) -> (AppState, BoxedService) {
    let state = TestApp::replica_state(&app.db.url);
    let service = TestApp::service_from(state.clone()).await;
    wait_until(Duration::from_secs(5), || state.keys.is_listening()).await;
    (state, service)
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    started.elapsed()
}

async fn status(service: &BoxedService, key: &str) -> u16 {
    let auth = format!("Bearer {key}");
    send(
        service,
        Method::GET,
        "/v1/me",
        None,
        &[("Authorization", &auth)],
    )
    .await
    .status
    .as_u16()
}

/// How long until `key` is refused by `service`, polled every few milliseconds.
async fn refused_within(service: &BoxedService, key: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        match status(service, key).await {
            401 => return started.elapsed(),
            200 => assert!(started.elapsed() < limit, "still accepted after {limit:?}"),
            other => panic!("unexpected {other}"),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn key_id(service: &BoxedService, key: &str) -> String {
    let auth = format!("Bearer {key}");
    let me = send(
        service,
        Method::GET,
        "/v1/me",
        None,
        &[("Authorization", &auth)],
    )
    .await;
    me.expect(200).body["key_id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_key_revoked_elsewhere_is_refused_within_a_second() {
    let app = TestApp::new().await;
    let (other, service) = replica(&app).await;
    let desk = app.key(Role::Staff, None).await;
    let id = key_id(&service, &desk).await;
    assert_eq!(other.keys.len(), 1, "the replica cached the key it checked");
    assert_eq!(status(&service, &desk).await, 200);

    // Revoked through the other replica: this one hears of it.
    app.delete(&format!("/v1/api-keys/{id}")).await.expect(204);
    let through_api = refused_within(&service, &desk, Duration::from_secs(1)).await;
    assert!(other.keys.is_empty());

    // Revoked straight in the database, as `prolo-scheduler api-keys revoke` does.
    let cli = app.key(Role::Staff, None).await;
    let cli_id = key_id(&service, &cli).await;
    assert_eq!(other.keys.len(), 1);
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE api_keys SET revoked_at = now() WHERE id = '{cli_id}'"
    ))
    .await
    .unwrap();
    let through_sql = refused_within(&service, &cli, Duration::from_secs(1)).await;

    // Use alone (`last_used_at`) tells no one: the cache is kept.
    let steady = app.key(Role::Staff, None).await;
    key_id(&service, &steady).await;
    conn.batch_execute("UPDATE api_keys SET last_used_at = now() - interval '5 minutes'")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(other.keys.len(), 1, "a touch does not empty the caches");
    println!(
        "key cache: refused {:.1} ms after an API revocation, {:.1} ms after an SQL one",
        through_api.as_secs_f64() * 1000.0,
        through_sql.as_secs_f64() * 1000.0
    );
}

#[actix_web::test]
async fn a_provider_archived_elsewhere_ends_its_cached_keys_within_a_second() {
    let app = TestApp::new().await;
    let location = app.location("Denver", "America/Denver").await;
    let provider = app.provider(&[], &[&location]).await;
    let (_other, service) = replica(&app).await;
    let key = app.key(Role::Provider, Some(&provider)).await;
    assert_eq!(status(&service, &key).await, 200);
    let etag = app
        .get(&format!("/v1/providers/{provider}"))
        .await
        .expect(200)
        .header("etag")
        .unwrap()
        .to_owned();
    let archived = app
        .send(
            Method::POST,
            &format!("/v1/providers/{provider}/archive"),
            None,
            &[("If-Match", &etag)],
        )
        .await;
    archived.expect(200);
    refused_within(&service, &key, Duration::from_secs(1)).await;
    // Here, at once: the replica that archived forgets before it answers.
    let here = app
        .send_as(Some(&key), Method::GET, "/v1/me", None, &[])
        .await;
    assert_eq!(here.status, 401);
}

#[actix_web::test]
async fn without_its_listener_a_replica_reads_every_key() {
    let app = TestApp::new().await;
    let (other, service) = replica(&app).await;
    let desk = app.key(Role::Staff, None).await;
    let id = key_id(&service, &desk).await;
    assert_eq!(other.keys.len(), 1);

    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = '{LISTENER_NAME}'"
    );
    conn.batch_execute(&kill).await.unwrap();
    wait_until(Duration::from_secs(2), || !other.keys.is_listening()).await;
    assert!(
        other.keys.is_empty(),
        "what was cached may have missed a notice"
    );
    // Meanwhile the key is read from the database on every request, and a revocation (whose
    // notice no one here hears) takes effect on the next one.
    assert_eq!(status(&service, &desk).await, 200);
    if !other.keys.is_listening() {
        assert!(
            other.keys.is_empty(),
            "nothing is cached while no one listens"
        );
    }
    conn.batch_execute(&format!(
        "UPDATE api_keys SET revoked_at = now() WHERE id = '{id}'"
    ))
    .await
    .unwrap();
    assert_eq!(status(&service, &desk).await, 401);

    // The listener comes back by itself, and the cache is used again.
    wait_until(Duration::from_secs(5), || other.keys.is_listening()).await;
    let again = app.key(Role::Staff, None).await;
    assert_eq!(status(&service, &again).await, 200);
    assert_eq!(other.keys.len(), 1);
}
