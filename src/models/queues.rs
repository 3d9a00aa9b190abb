//! How much work waits, for the metrics: due rows per worker queue and how far each event
//! consumer trails the log. Read at scrape time, by the claims' own partial indexes.

use super::prepared::prepared;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// One worker queue: rows due now, and how long the oldest has waited.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Queue {
    /// `notifications`, `webhooks` or `offers` (freed times for the waitlist).
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub depth: i64,
    #[diesel(sql_type = Double)]
    pub lag_seconds: f64,
}

/// One consumer of the event log: events it has not read, and the oldest one's age.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Consumer {
    #[diesel(sql_type = Text)]
    pub consumer: String,
    #[diesel(sql_type = BigInt)]
    pub behind: i64,
    #[diesel(sql_type = Double)]
    pub lag_seconds: f64,
}

/// What waits, at `now`.
#[derive(Debug, Clone)]
pub struct Backlog {
    pub queues: Vec<Queue>,
    pub consumers: Vec<Consumer>,
}

const QUEUES_SQL: &str = "\
SELECT 'notifications' AS kind, count(*) AS depth,
       coalesce(extract(epoch FROM $1 - min(due_at)), 0)::float8 AS lag_seconds
FROM notifications WHERE status = 'pending' AND due_at <= $1
UNION ALL
SELECT 'webhooks', count(*), coalesce(extract(epoch FROM $1 - min(next_attempt_at)), 0)::float8
FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
UNION ALL
SELECT 'offers', count(*), coalesce(extract(epoch FROM $1 - min(due_at)), 0)::float8
FROM waitlist_openings WHERE status = 'pending' AND due_at <= $1";

// Positions are handed out one after another, so the sequence's last one less the cursor's
// is how many events the consumer has still to read.
const CONSUMERS_SQL: &str = "\
SELECT c.consumer, greatest(s.last_position - c.position, 0) AS behind,
       coalesce(extract(epoch FROM $1 - (SELECT e.occurred_at FROM domain_events e
                                          WHERE e.position > c.position
                                          ORDER BY e.position LIMIT 1)), 0)::float8 AS lag_seconds
FROM event_cursors c CROSS JOIN domain_event_sequence s
ORDER BY c.consumer";

/// Reads the backlog in two statements.
pub async fn backlog(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Backlog> {
    let queues = prepared(QUEUES_SQL)
        .bind::<Timestamptz, _>(now)
        .load(conn)
        .await?;
    let consumers = prepared(CONSUMERS_SQL)
        .bind::<Timestamptz, _>(now)
        .load(conn)
        .await?;
    Ok(Backlog { queues, consumers })
}
