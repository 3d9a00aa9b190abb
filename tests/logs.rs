use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::http::Method;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;

use crate::sessions::clinic;
use crate::support::http::{Server, request};
use crate::support::{TestApp, TestDatabase, as_superuser, server_log};

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

/// A personal value planted in a patient's record, to be searched for in logs.
struct Canaries {
    given_name: &'static str,
    family_name: &'static str,
    email: &'static str,
    phone: &'static str,
    date_of_birth: &'static str,
}

const CANARIES: Canaries = Canaries {
    given_name: "Quillon",
    family_name: "Canary-4417",
    email: "quill.4417@canary.example",
    phone: "+1 303 555 4417",
    date_of_birth: "1969-07-16",
};

/// Starts inserting a patient with `email` and `date_of_birth` on a connection of its own and
/// leaves the transaction open, so that the service's own write of the same identity waits on
/// the unique index and then fails there, as a concurrent request's would.
async fn open_insert(url: &str, email: &str, date_of_birth: &str) -> AsyncPgConnection {
    let mut conn = prolo_scheduler::db::establish(url).await.unwrap();
    conn.batch_execute("BEGIN").await.unwrap();
    diesel::sql_query(
        "INSERT INTO patients (id, given_name, family_name, date_of_birth, email, source) \
         VALUES (gen_random_uuid(), $1, $2, $3::date, $4, 'staff')",
    )
    .bind::<Text, _>(CANARIES.given_name)
    .bind::<Text, _>(CANARIES.family_name)
    .bind::<Text, _>(date_of_birth)
    .bind::<Text, _>(email)
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

/// Waits until some backend of the database at `url` waits on a lock (the service's write);
/// false when none did within 5 s. Asked on a connection of its own: inside a transaction
/// PostgreSQL keeps showing the first snapshot of its activity statistics.
async fn until_a_write_waits(url: &str) -> bool {
    let conn = &mut prolo_scheduler::db::establish(url).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    for _ in 0..500 {
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(conn)
        .await
        .unwrap();
        if waiting.n > 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

#[actix_web::test]
async fn no_personal_values_reach_postgresqls_log_even_at_full_verbosity() {
    let Some(log) = server_log() else {
        eprintln!("skipped: with TEST_DATABASE_URL the server's log is not at hand");
        return;
    };
    let db = TestDatabase::new().await;
    // Whatever server the service is pointed at: this database logs every detail it has.
    as_superuser(&format!(
        "ALTER DATABASE {} SET log_error_verbosity = 'verbose'",
        db.name
    ))
    .await;
    let offset = std::fs::metadata(log).unwrap().len();
    let url = db.url.clone();
    let app = TestApp::over(db).await;
    let c = clinic(&app).await;
    let server = Server::start(&url, app.clock.clone()).await;
    let auth = format!("Bearer {}", app.admin_key);
    let headers = [("Authorization", auth.as_str())];
    let patient = json!({"given_name": CANARIES.given_name, "family_name": CANARIES.family_name,
                         "date_of_birth": CANARIES.date_of_birth, "email": CANARIES.email,
                         "phone": CANARIES.phone});

    // A create racing an uncommitted insert of the same person: the unique index decides.
    let mut open = open_insert(&url, CANARIES.email, CANARIES.date_of_birth).await;
    let addr = server.addr;
    let (body, auth2) = (patient.clone(), auth.clone());
    let racing = actix_web::rt::spawn(async move {
        let headers = [("Authorization", auth2.as_str())];
        request(addr, "POST", "/v1/patients", Some(&body), &headers).await
    });
    if !until_a_write_waits(&url).await {
        panic!("the create never waited: {:?}", racing.await.unwrap().body);
    }
    open.batch_execute("COMMIT").await.unwrap();
    let raced = racing.await.unwrap();
    assert_eq!(raced.status, 409, "{}", raced.body);
    assert_eq!(raced.body["type"], "/problems/duplicate");

    // The same person again, with a decomposed accent-free twin of the address: the check.
    let again = request(addr, "POST", "/v1/patients", Some(&patient), &headers).await;
    assert_eq!(again.status, 409);
    let mut shouting = patient.clone();
    shouting["email"] = json!("quill.4417@CANARY.example");
    let loud = request(addr, "POST", "/v1/patients", Some(&shouting), &headers).await;
    assert_eq!(loud.status, 409);

    // A PATCH onto another's identity, racing an uncommitted insert of that identity.
    let other = "quill.4417.second@canary.example";
    let mut open = open_insert(&url, other, CANARIES.date_of_birth).await;
    let patient_path = format!("/v1/patients/{}", c.patient);
    let change = json!({"email": other, "date_of_birth": CANARIES.date_of_birth});
    let auth3 = auth.clone();
    let racing = actix_web::rt::spawn(async move {
        let headers = [("Authorization", auth3.as_str()), ("If-Match", "*")];
        request(addr, "PATCH", &patient_path, Some(&change), &headers).await
    });
    assert!(until_a_write_waits(&url).await, "the PATCH never waited");
    open.batch_execute("COMMIT").await.unwrap();
    let raced = racing.await.unwrap();
    assert_eq!(raced.status, 409, "{}", raced.body);

    // Booking conflicts fail on exclusion constraints, which print their keys too.
    let first = c.booking("injection", "2027-01-12T09:00:00-07:00");
    request(addr, "POST", "/v1/sessions", Some(&first), &headers).await;
    let taken = request(addr, "POST", "/v1/sessions", Some(&first), &headers).await;
    assert_eq!(taken.status, 409);

    let written = std::fs::read(log).unwrap();
    let since = String::from_utf8_lossy(&written[offset as usize..]);
    assert!(
        since.contains("patients_identity_key"),
        "the races reached the unique index:\n{since}"
    );
    for canary in [
        CANARIES.given_name,
        CANARIES.family_name,
        "quill.4417",
        CANARIES.date_of_birth,
        "555 4417",
    ] {
        assert!(
            !since.contains(canary),
            "{canary} is in PostgreSQL's log:\n{since}"
        );
    }
}

#[actix_web::test]
async fn no_index_key_holds_a_personal_value() {
    #[derive(diesel::QueryableByName, Debug)]
    struct Key {
        #[diesel(sql_type = Text)]
        definition: String,
    }
    let app = TestApp::new().await;
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    // Unique indexes and exclusion constraints: the keys PostgreSQL prints when they are violated.
    let keys: Vec<Key> = diesel::sql_query(
        "SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND (i.indisunique OR i.indisexclusion)",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(keys.len() > 5, "{keys:?}");
    let personal = [
        "email",
        "phone",
        "given_name",
        "family_name",
        "date_of_birth",
        " name",
        "message",
        "notes",
    ];
    for key in &keys {
        let columns = key.definition.split_once(" USING ").map_or("", |(_, c)| c);
        for value in personal {
            assert!(
                !columns.contains(value),
                "{} keys on a personal value",
                key.definition
            );
        }
    }
    // And the embedded cluster reports errors without their DETAIL at all.
    if server_log().is_some() {
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = Text)]
            log_error_verbosity: String,
        }
        let setting: Setting = diesel::sql_query("SHOW log_error_verbosity")
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(setting.log_error_verbosity, "terse");
    }
}
