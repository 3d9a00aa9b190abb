//! The test harness: one PostgreSQL for the run (TEST_DATABASE_URL, or the embedded cluster on
//! /dev/shm), a template database migrated once, and a fresh database cloned from it per test.

pub mod clinic;
pub mod http;
pub mod smtp;
pub mod webhooks;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_http::Request;
use actix_service::Service;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode, header::HeaderMap};
use actix_web::test;
use diesel_async::SimpleAsyncConnection;
use prolo_scheduler::db;
use std::sync::Arc;

use prolo_scheduler::app::webhooks::endpoints::UrlPolicy;
use prolo_scheduler::clock::{Clock, FixedClock};
use prolo_scheduler::config::RateLimits;
use prolo_scheduler::domain::access::Role;
use prolo_scheduler::http::state::AppState;
use prolo_scheduler::mail::Mailer;
use prolo_scheduler::models::api_keys;
use serde_json::Value;

struct Server {
    /// URL of the server with the database part left for [`database_url`] to fill in.
    admin_url: String,
    template: String,
    /// The server's own log, when the harness started it.
    log: Option<std::path::PathBuf>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // Set up on a runtime of its own: each test has its own, and this one outlives none of them.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(start_server())
        })
        .join()
        .expect("test database setup panicked")
    })
}

async fn start_server() -> Server {
    let (admin_url, log) = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let root = if std::path::Path::new("/dev/shm").is_dir() {
                std::path::PathBuf::from("/dev/shm")
            } else {
                std::env::temp_dir()
            };
            let uid = unsafe { libc::geteuid() };
            let cluster = db::embedded::LocalCluster::start(
                &root.join(format!("prolo-scheduler-test-{uid}")),
            )
            .await
            .expect("cannot start the test PostgreSQL");
            // The cluster is left running for the next run to adopt; it lives in memory only.
            (cluster.url("postgres"), Some(cluster.log_file()))
        }
    };
    let pid = std::process::id();
    let template = format!("prolo_tpl_{pid}");
    let mut admin = db::establish(&admin_url)
        .await
        .expect("cannot connect to the test server");
    drop_stale_databases(&mut admin).await;
    for statement in [
        format!("DROP DATABASE IF EXISTS {template}"),
        format!("CREATE DATABASE {template}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .expect("cannot create the template database");
    }
    db::migrate(&database_url(&admin_url, &template))
        .await
        .expect("migrations failed");
    Server {
        admin_url,
        template,
        log,
    }
}

/// The project's root, where `tests/` and `target/` are.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the venv that `tests/<tool>/install` makes under `target/<tool>-venv`
/// (a PyPI package a test talks to), installed once per run.
pub fn venv_python(
    tool: &str,
    once: &'static std::sync::OnceLock<std::path::PathBuf>,
) -> &'static std::path::PathBuf {
    once.get_or_init(|| {
        let install = root().join(format!("tests/{tool}/install"));
        let status = std::process::Command::new(&install)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", install.display()));
        assert!(status.success(), "{} failed", install.display());
        root().join(format!("target/{tool}-venv/bin/python"))
    })
}

/// PostgreSQL's own log file, when the harness runs the server (not with TEST_DATABASE_URL).
pub fn server_log() -> Option<&'static std::path::Path> {
    server().log.as_deref()
}

/// Runs `sql` on the test server as its superuser (outside any test database).
pub async fn as_superuser(sql: &str) {
    let mut admin = db::establish(&server().admin_url)
        .await
        .expect("cannot connect");
    admin
        .batch_execute(sql)
        .await
        .expect("superuser statement failed");
}

/// Databases of earlier runs whose process is gone.
async fn drop_stale_databases(admin: &mut diesel_async::AsyncPgConnection) {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'prolo\\_t%'")
            .load(admin)
            .await
            .unwrap_or_default();
    for Name { datname } in names {
        let pid: Option<i32> = datname.split('_').nth(2).and_then(|pid| pid.parse().ok());
        let alive = pid.is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0);
        if !alive {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"))
                .await;
        }
    }
}

/// `url` with its database replaced by `database`.
pub fn database_url(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{database}{query}", &base[..path_start])
}

/// A fresh, migrated, empty database for one test, dropped when the test ends.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Clones the template.
    pub async fn new() -> Self {
        let name = Self::unused_name();
        let server = server();
        let mut admin = db::establish(&server.admin_url)
            .await
            .expect("cannot connect");
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE {}",
                server.template
            ))
            .await
            .expect("cannot clone the template");
        Self {
            url: database_url(&server.admin_url, &name),
            name,
        }
    }

    /// An empty database without any migration applied.
    pub async fn empty() -> Self {
        let name = Self::unused_name();
        let server = server();
        let mut admin = db::establish(&server.admin_url)
            .await
            .expect("cannot connect");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("cannot create");
        Self {
            url: database_url(&server.admin_url, &name),
            name,
        }
    }

    /// A name no database has yet: for tests of a database that is not there.
    pub fn unused_name() -> String {
        format!(
            "prolo_t_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Creates the database `name` from the template (for a database that "comes back").
    pub async fn create_named(name: &str) {
        let server = server();
        let mut admin = db::establish(&server.admin_url)
            .await
            .expect("cannot connect");
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE {}",
                server.template
            ))
            .await
            .expect("cannot clone the template");
    }

    /// URL of database `name` on the test server.
    pub fn url_of(name: &str) -> String {
        database_url(&server().admin_url, name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = server().admin_url.clone();
        let name = self.name.clone();
        on_a_runtime_of_its_own(async move {
            if let Ok(mut admin) = db::establish(&admin_url).await {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        });
    }
}

/// Runs `work` to its end on a thread and runtime of its own: for `Drop`, which may run inside
/// a test's runtime, where blocking on another future is not allowed.
pub fn on_a_runtime_of_its_own(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
    .join();
}

pub type BoxedService =
    actix_service::boxed::BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// The whole application in-process over its own database; requests carry an admin key
/// unless sent with [`TestApp::send_as`].
pub struct TestApp {
    service: BoxedService,
    pub db: TestDatabase,
    pub admin_key: String,
    /// The app's clock: it shows [`TEST_NOW`] until a test moves it.
    pub clock: Arc<FixedClock>,
}

/// "Now" for every test app: a Monday in January 2027, whatever today is.
pub const TEST_NOW: &str = "2027-01-04T15:00:00Z";

/// A response, with its body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {:#}",
            self.body
        );
        self
    }

    /// Asserts a problem response of `type` `/problems/{slug}` and returns its body.
    #[track_caller]
    pub fn problem(self, status: u16, slug: &str) -> Value {
        let reply = self.expect(status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(
            reply.body["type"],
            format!("/problems/{slug}"),
            "body: {:#}",
            reply.body
        );
        assert_eq!(reply.body["status"], status);
        assert!(reply.body["title"].is_string() && reply.body["detail"].is_string());
        reply.body
    }

    /// The fields named by a validation problem (400: the request breaks the schema).
    #[track_caller]
    pub fn invalid_fields(self) -> Vec<String> {
        let body = self.problem(400, "validation-failed");
        Self::named_fields(&body)
    }

    /// The fields named by a 422 `unprocessable-values`: schema-valid values breaking a rule
    /// the schema cannot state.
    #[track_caller]
    pub fn broken_rules(self) -> Vec<String> {
        let body = self.problem(422, "unprocessable-values");
        Self::named_fields(&body)
    }

    /// The fields named by either field problem (400 or 422), for tables that mix both.
    #[track_caller]
    pub fn refused_fields(self) -> Vec<String> {
        let body = match self.status.as_u16() {
            422 => self.problem(422, "unprocessable-values"),
            _ => self.problem(400, "validation-failed"),
        };
        Self::named_fields(&body)
    }

    #[track_caller]
    fn named_fields(body: &Value) -> Vec<String> {
        body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
                e["field"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

impl TestApp {
    /// The app over a fresh database.
    pub async fn new() -> Self {
        let db = TestDatabase::new().await;
        Self::over(db).await
    }

    /// The app over `db`.
    pub async fn over(db: TestDatabase) -> Self {
        Self::with_limits(db, RateLimits::UNLIMITED).await
    }

    /// The app over `db` with these rate limits.
    pub async fn with_limits(db: TestDatabase, limits: RateLimits) -> Self {
        Self::build(db, limits, vec![]).await
    }

    /// The app over `db` answering browsers from `origins`.
    pub async fn with_cors(db: TestDatabase, origins: Vec<String>) -> Self {
        Self::build(db, RateLimits::UNLIMITED, origins).await
    }

    /// The app over `db` with these rate limits, mailing what requests send (a booking's
    /// code) through the SMTP server at `smtp_url`.
    pub async fn with_mail(db: TestDatabase, limits: RateLimits, smtp_url: &str) -> Self {
        let mailer = Mailer::new(Some(smtp_url), "desk@clinic.example", &std::env::temp_dir())
            .expect("mailer");
        Self::build_with(db, limits, vec![], Some(mailer)).await
    }

    /// The app over `db` refusing webhook URLs as production does: `https://` to public
    /// addresses only (other apps allow what the tests' local receiver needs).
    pub async fn with_strict_webhooks(db: TestDatabase) -> Self {
        let clock = Arc::new(FixedClock::new(TEST_NOW.parse().unwrap()));
        let state = Self::state(&db.url, RateLimits::UNLIMITED, clock.clone(), None)
            .with_webhook_urls(UrlPolicy::default());
        Self::assemble(db, Self::service_of(state, vec![]).await, clock).await
    }

    async fn build(db: TestDatabase, limits: RateLimits, origins: Vec<String>) -> Self {
        Self::build_with(db, limits, origins, None).await
    }

    async fn build_with(
        db: TestDatabase,
        limits: RateLimits,
        origins: Vec<String>,
        mailer: Option<Mailer>,
    ) -> Self {
        let clock = Arc::new(FixedClock::new(TEST_NOW.parse().unwrap()));
        let service = Self::service_with(&db.url, limits, origins, clock.clone(), mailer).await;
        Self::assemble(db, service, clock).await
    }

    async fn assemble(db: TestDatabase, service: BoxedService, clock: Arc<FixedClock>) -> Self {
        let mut app = Self {
            service,
            db,
            admin_key: String::new(),
            clock,
        };
        if app.get("/readyz").await.status == StatusCode::OK {
            app.admin_key = app.key(Role::Admin, None).await;
        }
        app
    }

    /// The app over whatever database `url` names (which may not exist).
    pub async fn service_for(url: &str) -> BoxedService {
        Self::service_with(
            url,
            RateLimits::UNLIMITED,
            vec![],
            Arc::new(FixedClock::new(TEST_NOW.parse().unwrap())),
            None,
        )
        .await
    }

    /// The state of another replica over `url`: its own pool and its own key cache, listening
    /// for key changes as `serve` does.
    pub fn replica_state(url: &str) -> AppState {
        let clock = Arc::new(FixedClock::new(TEST_NOW.parse().unwrap()));
        Self::state(url, RateLimits::UNLIMITED, clock, None)
    }

    /// The app over `state`.
    pub async fn service_from(state: AppState) -> BoxedService {
        Self::service_of(state, vec![]).await
    }

    async fn service_with(
        url: &str,
        limits: RateLimits,
        origins: Vec<String>,
        clock: Arc<FixedClock>,
        mailer: Option<Mailer>,
    ) -> BoxedService {
        Self::service_of(Self::state(url, limits, clock, mailer), origins).await
    }

    /// The state the tests' apps share: webhook URLs to the local receiver allowed.
    fn state(
        url: &str,
        limits: RateLimits,
        clock: Arc<FixedClock>,
        mailer: Option<Mailer>,
    ) -> AppState {
        let options = prolo_scheduler::config::PoolOptions {
            max_size: 4,
            timeout: std::time::Duration::from_secs(2),
        };
        let mut state = AppState::with_limits(db::pool(url, options).expect("pool"), limits)
            .with_clock(clock)
            .with_webhook_urls(UrlPolicy {
                allow_insecure: true,
                allow_private: true,
            });
        if let Some(mailer) = mailer {
            state = state.with_mailer(mailer);
        }
        state.listen_for_key_changes();
        state
    }

    async fn service_of(state: AppState, origins: Vec<String>) -> BoxedService {
        let service = test::init_service(prolo_scheduler::app(state, origins)).await;
        actix_service::boxed::service(actix_service::ServiceExt::map(
            service,
            |res: ServiceResponse<_>| res.map_into_boxed_body(),
        ))
    }

    /// The app's current time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Stores a new key of `role` (bound to `provider_id`) and returns its secret.
    pub async fn key(&self, role: Role, provider_id: Option<&str>) -> String {
        self.key_with(role, provider_id, None).await
    }

    /// Stores a new key that expires at `expires_at` and returns its secret.
    pub async fn key_with(
        &self,
        role: Role,
        provider_id: Option<&str>,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        let provider_id = provider_id.map(|id| uuid::Uuid::parse_str(id).unwrap());
        let (secret, new) =
            api_keys::NewApiKey::generate(role, "test", provider_id, expires_at).unwrap();
        let mut conn = db::establish(&self.db.url).await.unwrap();
        api_keys::insert(&mut conn, new).await.unwrap();
        secret
    }

    /// Sends a request as the admin, with optional JSON body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send_as(Some(&self.admin_key), method, path, body, headers)
            .await
    }

    /// Sends a request with `key` (none: anonymous).
    pub async fn send_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let bearer = key.filter(|k| !k.is_empty()).map(|k| format!("Bearer {k}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(bearer) = &bearer {
            all.push(("authorization", bearer));
        }
        send(&self.service, method, path, body, &all).await
    }

    /// Sends a request without a key from the client at `ip`.
    pub async fn send_from(
        &self,
        ip: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = test::TestRequest::default()
            .method(method)
            .uri(path)
            .peer_addr(std::net::SocketAddr::new(ip.parse().unwrap(), 40000));
        if let Some(body) = body {
            request = request
                .insert_header(("content-type", "application/json"))
                .set_payload(body.to_string());
        }
        send_request(&self.service, request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// `POST` of a raw body with the given content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, payload: &'static str) -> Reply {
        let request = test::TestRequest::post()
            .uri(path)
            .insert_header(("content-type", content_type))
            .insert_header(("authorization", format!("Bearer {}", self.admin_key)))
            .set_payload(payload);
        send_request(&self.service, request).await
    }

    /// An anonymous `POST` of a form body, as a browser or a mail client sends it.
    pub async fn send_form(&self, path: &str, form: &'static str) -> Reply {
        let request = test::TestRequest::post()
            .uri(path)
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(form);
        send_request(&self.service, request).await
    }

    /// `PATCH` with `If-Match`.
    pub async fn patch(&self, path: &str, etag: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body), &[("if-match", etag)])
            .await
    }

    /// Creates a location and returns its id.
    pub async fn location(&self, name: &str, time_zone: &str) -> String {
        let reply = self
            .post(
                "/v1/locations",
                serde_json::json!({"name": name, "time_zone": time_zone}),
            )
            .await;
        reply.expect(201).body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a treatment area and returns its id.
    pub async fn treatment_area(&self, slug: &str) -> String {
        let reply = self
            .post(
                "/v1/treatment-areas",
                serde_json::json!({
                    "slug": slug, "name": slug,
                    "durations": {"assessment": 45, "injection": 30, "follow_up": 20},
                    "recommended_sessions": {"min": 3, "max": 6},
                    "interval_days": {"min": 21, "target": 28, "max": 42}
                }),
            )
            .await;
        reply.expect(201).body["id"].as_str().unwrap().to_owned()
    }

    /// Sets `provider`'s weekly pattern: `start`–`end` at `location` on each of `days`.
    pub async fn weekly_hours(
        &self,
        provider: &str,
        location: &str,
        days: &[&str],
        (start, end): (&str, &str),
    ) {
        let intervals: Vec<Value> = days
            .iter()
            .map(|day| serde_json::json!({"location_id": location, "weekday": day, "start": start, "end": end}))
            .collect();
        self.put(
            &format!("/v1/providers/{provider}/working-hours"),
            serde_json::json!({"intervals": intervals}),
        )
        .await
        .expect(200);
    }

    /// Creates a provider and returns its id.
    pub async fn provider(&self, areas: &[&str], locations: &[&str]) -> String {
        let reply = self
            .post(
                "/v1/providers",
                serde_json::json!({"name": "Dr. Test", "treatment_area_ids": areas, "location_ids": locations}),
            )
            .await;
        reply.expect(201).body["id"].as_str().unwrap().to_owned()
    }
}

/// Sends one request to `service`.
pub async fn send(
    service: &BoxedService,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = test::TestRequest::default().method(method).uri(path);
    if let Some(body) = body {
        request = request
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_string());
    }
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    send_request(service, request).await
}

/// Sends a prepared request to `service`.
pub async fn send_request(service: &BoxedService, request: test::TestRequest) -> Reply {
    let response = service
        .call(request.to_request())
        .await
        .expect("service error");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}
