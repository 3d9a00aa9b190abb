//! Hand-written statements (`models::prepared`) are prepared once per connection and then
//! reused, as diesel's DSL queries are: no parse, describe and plan on every call.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use prolo_scheduler::domain::slots::Span;

use crate::support::TestApp;

#[derive(QueryableByName)]
struct Prepared {
    #[diesel(sql_type = BigInt)]
    statements: i64,
    #[diesel(sql_type = BigInt)]
    runs: i64,
}

#[actix_web::test]
async fn a_hand_written_statement_is_prepared_once_per_connection() {
    let app = TestApp::new().await;
    let mut conn = prolo_scheduler::db::establish(&app.db.url).await.unwrap();
    let now = app.now();
    let window = Span {
        start: now,
        end: now + chrono::Duration::days(14),
    };
    let provider = uuid::Uuid::now_v7();
    for _ in 0..5 {
        prolo_scheduler::models::calendars::busy(&conn, &[provider], window, &[], now)
            .await
            .unwrap();
    }
    // The busy spans' statement is the only one here that reads time off with a UNION.
    let seen: Prepared = diesel::sql_query(
        "SELECT count(*) AS statements, coalesce(sum(generic_plans + custom_plans), 0)::int8 AS runs \
         FROM pg_prepared_statements WHERE statement LIKE '%UNION ALL%FROM time_off%' \
           AND statement NOT LIKE '%pg_prepared_statements%'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (seen.statements, seen.runs),
        (1, 5),
        "one statement, run five times"
    );
}
