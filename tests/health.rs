use crate::support::{TestApp, TestDatabase, send};
use actix_web::http::Method;

#[actix_web::test]
async fn healthz_and_readyz_answer_when_the_database_is_up() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz").await.expect(200).body["status"], "ok");
    assert_eq!(app.get("/readyz").await.expect(200).body["status"], "ready");
}

#[actix_web::test]
async fn readyz_reports_a_missing_database_and_recovers_when_it_returns() {
    let name = TestDatabase::unused_name();
    let url = TestDatabase::url_of(&name);
    let service = TestApp::service_for(&url).await;

    let health = send(&service, Method::GET, "/healthz", None, &[]).await;
    assert_eq!(
        health.status, 200,
        "liveness does not depend on the database"
    );
    let ready = send(&service, Method::GET, "/readyz", None, &[]).await;
    assert_eq!(ready.header("retry-after"), Some("2"));
    ready.problem(503, "service-unavailable");
    let request = send(&service, Method::GET, "/v1/locations", None, &[]).await;
    assert!(request.header("retry-after").is_some());
    let body = request.problem(503, "service-unavailable");
    let text = body.to_string();
    assert!(
        !text.contains(&name) && !text.contains("postgres"),
        "no internals in a 5xx: {text}"
    );

    // The database "comes back": the same running app recovers without a restart.
    TestDatabase::create_named(&name).await;
    let _cleanup = TestDatabase {
        url: url.clone(),
        name: name.clone(),
    };
    let ready = send(&service, Method::GET, "/readyz", None, &[]).await;
    assert_eq!(ready.status, 200, "{:#}", ready.body);
    let request = send(&service, Method::GET, "/v1/locations", None, &[]).await;
    assert_eq!(request.status, 200);
}

#[actix_web::test]
async fn readyz_is_not_ready_before_migrations() {
    let db = TestDatabase::empty().await;
    let app = TestApp::over(db).await;
    app.get("/readyz").await.problem(503, "service-unavailable");
    prolo_scheduler::db::migrate(&app.db.url).await.unwrap();
    app.get("/readyz").await.expect(200);
}

#[actix_web::test]
async fn the_embedded_cluster_is_adopted_not_duplicated() {
    // The harness started (or adopted) the test cluster; starting it again finds the same server.
    let root = std::path::Path::new(if std::path::Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    })
    .join(format!("prolo-scheduler-test-{}", unsafe {
        libc::geteuid()
    }));
    if std::env::var_os("TEST_DATABASE_URL").is_some() {
        return;
    }
    let _ = TestDatabase::new().await;
    let first = prolo_scheduler::db::embedded::LocalCluster::start(&root)
        .await
        .unwrap();
    let second = prolo_scheduler::db::embedded::LocalCluster::start(&root)
        .await
        .unwrap();
    assert_eq!(first.url("postgres"), second.url("postgres"));
    let pid_file = std::fs::read_to_string(root.join("postgres/postmaster.pid")).unwrap();
    assert!(
        first
            .url("postgres")
            .contains(pid_file.lines().nth(3).unwrap().trim())
    );
}
