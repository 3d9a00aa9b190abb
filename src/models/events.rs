//! The event log: appended in the writing transaction, given its place in commit order by the
//! sequencer once that transaction has committed, read in that order.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{domain_event_sequence, domain_events, event_cursors};

/// An event to append.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = domain_events)]
pub struct NewEvent {
    pub id: Uuid,
    pub type_: String,
    pub occurred_at: DateTime<Utc>,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub data: serde_json::Value,
}

/// An event with its place in the log (only placed events are read).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = domain_events)]
pub struct Event {
    pub id: Uuid,
    #[diesel(select_expression = domain_events::position.assume_not_null())]
    pub position: i64,
    pub type_: String,
    pub occurred_at: DateTime<Utc>,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub data: serde_json::Value,
}

/// Appends `events` in the caller's transaction, in the order given.
pub async fn append(mut conn: &AsyncPgConnection, events: Vec<NewEvent>) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    diesel::insert_into(domain_events::table)
        .values(events)
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Events the sequencer gives positions to per transaction.
const SEQUENCE_BATCH: i64 = 1000;

/// Gives every committed event without a position the next positions, in the order the events
/// were written. Sequencers queue on the one row of `domain_event_sequence`, so each sees what
/// the last committed: positions only ever rise, and a position once readable is never
/// preceded by a later one. An event of a transaction still open is invisible here and gets
/// its position after it commits, behind every event already placed — so a reader that polls
/// `after` its last position misses nothing. Returns how many events were placed.
pub async fn sequence(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let pending = diesel::select(diesel::dsl::exists(
        domain_events::table.filter(domain_events::position.is_null()),
    ))
    .get_result::<bool>(conn)
    .await?;
    if !pending {
        return Ok(0);
    }
    let mut placed = 0;
    loop {
        let batch = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let last: i64 = domain_event_sequence::table
                    .select(domain_event_sequence::last_position)
                    .for_update()
                    .get_result(conn)
                    .await?;
                // A new statement, so a new snapshot: it sees every commit before the lock.
                let count = prepared(
                    "WITH batch AS ( \
                       SELECT written, row_number() OVER (ORDER BY written) AS n \
                       FROM domain_events WHERE position IS NULL ORDER BY written LIMIT $2) \
                     UPDATE domain_events e SET position = $1 + batch.n \
                     FROM batch WHERE e.written = batch.written",
                )
                .bind::<diesel::sql_types::BigInt, _>(last)
                .bind::<diesel::sql_types::BigInt, _>(SEQUENCE_BATCH)
                .execute(conn)
                .await?;
                if count > 0 {
                    diesel::update(domain_event_sequence::table)
                        .set(domain_event_sequence::last_position.eq(last + count as i64))
                        .execute(conn)
                        .await?;
                }
                Ok(count)
            })
            .await?;
        placed += batch;
        if (batch as i64) < SEQUENCE_BATCH {
            return Ok(placed);
        }
    }
}

/// Up to `limit` placed events after position `after`, of `types` when given, in commit order;
/// and the last position placed, read in the same snapshot.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: i64,
    types: Option<Vec<String>>,
    limit: i64,
) -> QueryResult<(Vec<Event>, i64)> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |conn| {
            let events = placed_after(conn, after, types, limit).await?;
            let head = domain_event_sequence::table
                .select(domain_event_sequence::last_position)
                .get_result(conn)
                .await?;
            Ok((events, head))
        })
        .await
}

/// Up to `limit` placed events after position `after`, of `types` when given, in commit
/// order, in the caller's transaction.
pub async fn placed_after(
    conn: &mut AsyncPgConnection,
    after: i64,
    types: Option<Vec<String>>,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    let mut query = domain_events::table
        .filter(domain_events::position.gt(after))
        .order(domain_events::position)
        .limit(limit)
        .select(Event::as_select())
        .into_boxed();
    if let Some(types) = types {
        query = query.filter(domain_events::type_.eq_any(types));
    }
    query.load(conn).await
}

/// Deletes up to `batch` placed events that occurred before `cutoff`, oldest first; returns
/// how many went. Unplaced ones stay until they have been readable at least once.
pub async fn purge_batch(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> QueryResult<usize> {
    prepared(
        "DELETE FROM domain_events WHERE written IN ( \
           SELECT written FROM domain_events \
           WHERE occurred_at < $1 AND position IS NOT NULL ORDER BY written LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)
    .await
}

/// Where `consumer` has read the event log to, locked until the transaction ends; `None` when
/// another replica holds it (it is reading now).
pub async fn lock_cursor(conn: &mut AsyncPgConnection, consumer: &str) -> QueryResult<Option<i64>> {
    event_cursors::table
        .find(consumer)
        .select(event_cursors::position)
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()
}

/// Moves `consumer`'s cursor to `position`.
pub async fn advance_cursor(
    conn: &mut AsyncPgConnection,
    consumer: &str,
    position: i64,
) -> QueryResult<()> {
    diesel::update(event_cursors::table.find(consumer))
        .set((
            event_cursors::position.eq(position),
            event_cursors::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
