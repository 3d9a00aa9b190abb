use diesel::migration::MigrationSource;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::MigrationHarness;
use prolo_scheduler::db::MIGRATIONS;

use crate::support::TestDatabase;

/// Everything a migration can create in the public schema, as comparable text.
const SCHEMA_SNAPSHOT: &str = "
    SELECT coalesce(string_agg(line, E'\\n' ORDER BY line), '') AS snapshot FROM (
        SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS line
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL
        SELECT 'extension ' || extname FROM pg_extension
        UNION ALL
        SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = pg_proc.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    ) lines";

#[derive(diesel::QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = diesel::sql_types::Text)]
    snapshot: String,
}

fn snapshot(conn: &mut AsyncConnectionWrapper<AsyncPgConnection>) -> String {
    use diesel::RunQueryDsl;
    diesel::sql_query(SCHEMA_SNAPSHOT)
        .get_result::<Snapshot>(conn)
        .unwrap()
        .snapshot
        .lines()
        .filter(|line| !line.contains("__diesel_schema_migrations"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[actix_web::test]
async fn every_down_migration_reverts_its_up() {
    let db = TestDatabase::empty().await;
    let conn = prolo_scheduler::db::establish(&db.url).await.unwrap();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).unwrap();
        assert!(!migrations.is_empty());
        diesel::migration::MigrationConnection::setup(&mut conn).unwrap();
        for migration in &migrations {
            let before = snapshot(&mut conn);
            conn.run_migration(migration.as_ref()).unwrap();
            let applied = snapshot(&mut conn);
            assert_ne!(applied, before, "{} changes nothing", migration.name());
            conn.revert_migration(migration.as_ref()).unwrap();
            assert_eq!(
                snapshot(&mut conn),
                before,
                "{} down.sql leaves something behind",
                migration.name()
            );
            conn.run_migration(migration.as_ref()).unwrap();
            assert_eq!(
                snapshot(&mut conn),
                applied,
                "{} does not apply again cleanly",
                migration.name()
            );
        }
        assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
    })
    .await
    .unwrap();
}

/// Rows as they stood before rooms and devices existed: a clinic with a booked injection.
const BEFORE_RESOURCES: &str = "
    INSERT INTO locations (id, name, time_zone) VALUES
        ('00000000-0000-7000-8000-000000000001', 'Denver', 'America/Denver');
    INSERT INTO treatment_areas (id, slug, name, assessment_minutes, injection_minutes,
        follow_up_minutes, sessions_min, sessions_max, interval_min_days, interval_max_days)
    VALUES ('00000000-0000-7000-8000-000000000002', 'knee', 'Knee', 45, 30, 20, 3, 6, 21, 42);
    INSERT INTO providers (id, name) VALUES ('00000000-0000-7000-8000-000000000003', 'Dr. Old');
    INSERT INTO provider_treatment_areas VALUES
        ('00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000002');
    INSERT INTO provider_locations VALUES
        ('00000000-0000-7000-8000-000000000003', '00000000-0000-7000-8000-000000000001');
    INSERT INTO working_hours (id, provider_id, location_id, weekday, start_time, end_time)
    SELECT gen_random_uuid(), '00000000-0000-7000-8000-000000000003',
           '00000000-0000-7000-8000-000000000001', day, '08:00', '17:00'
    FROM generate_series(1, 5) AS day;
    INSERT INTO patients (id, given_name, family_name, date_of_birth, email, source) VALUES
        ('00000000-0000-7000-8000-000000000004', 'Jordan', 'Reyes', '1968-04-12',
         'jordan@example.com', 'staff');
    INSERT INTO sessions (id, kind, patient_id, provider_id, location_id, treatment_area_id,
        starts_at, ends_at, held_until)
    VALUES ('00000000-0000-7000-8000-000000000005', 'injection',
        '00000000-0000-7000-8000-000000000004', '00000000-0000-7000-8000-000000000003',
        '00000000-0000-7000-8000-000000000001', '00000000-0000-7000-8000-000000000002',
        '2027-01-05T17:00:00Z', '2027-01-05T17:30:00Z', '2027-01-05T17:40:00Z');
";

#[actix_web::test]
async fn data_from_before_resources_books_and_moves_unchanged() {
    use serde_json::json;
    let db = crate::support::TestDatabase::new().await;
    let conn = prolo_scheduler::db::establish(&db.url).await.unwrap();
    tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS).unwrap();
        let resources = migrations
            .iter()
            .find(|m| m.name().to_string().ends_with("_resources"))
            .expect("the resources migration");
        conn.revert_migration(resources.as_ref()).unwrap();
        conn.batch_execute(BEFORE_RESOURCES).unwrap();
        conn.run_migration(resources.as_ref()).unwrap();
    })
    .await
    .unwrap();
    let app = crate::support::TestApp::over(db).await;
    let session = "/v1/sessions/00000000-0000-7000-8000-000000000005";
    let read = app.get(session).await.expect(200);
    assert_eq!(read.body["resources"], json!([]));
    let area = app.get("/v1/treatment-areas/knee").await.expect(200);
    assert_eq!(area.body["requirements"]["injection"], json!([]));
    let slots = app
        .get("/v1/availability?treatment_area_id=00000000-0000-7000-8000-000000000002&kind=injection&from=2027-01-05&to=2027-01-05")
        .await
        .expect(200);
    assert!(!slots.body["slots"].as_array().unwrap().is_empty());
    let booking = json!({"patient_id": "00000000-0000-7000-8000-000000000004",
        "provider_id": "00000000-0000-7000-8000-000000000003",
        "location_id": "00000000-0000-7000-8000-000000000001",
        "treatment_area_id": "00000000-0000-7000-8000-000000000002",
        "kind": "injection", "starts_at": "2027-01-06T10:00:00-07:00"});
    app.post("/v1/sessions", booking).await.expect(201);
    app.post(
        &format!("{session}/reschedule"),
        json!({"starts_at": "2027-01-05T13:00:00-07:00"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("{session}/cancel"),
        json!({"reason_code": "illness"}),
    )
    .await
    .expect(200);
}
