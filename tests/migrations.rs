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
