//! The waitlist's figure: with 500 patients waiting, the time from a cancellation's commit to
//! the offers of the freed time being sent (accepted by the mail transport: files here), over
//! 100 cancellations, through a service running its waitlist and notification workers with
//! their default 1 s rounds and no debounce (the clinic's default adds two minutes).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::Serialize;
use serde_json::json;

use crate::http;
use crate::load::Service;

/// Waiting entries seeded.
pub const ENTRIES: u32 = 500;
/// Cancellations measured.
pub const CANCELLATIONS: usize = 100;

/// What the run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Waitlist {
    pub waiting: u32,
    pub cancellations: usize,
    /// Cancellations whose freed time some waiting entry fitted.
    pub offered: usize,
    pub offers: i64,
    /// From the cancellation's answer to its offers made (written, before their emails).
    pub offered_p50_ms: f64,
    pub offered_p99_ms: f64,
    /// From the cancellation's answer to the last of its offers accepted by the mailer.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Seeds the waiting patients: mostly follow-ups and injections of any area, a third bound to
/// a provider, some to weekdays or half days, one in ten urgent.
pub async fn seed(conn: &mut AsyncPgConnection) -> Result<(), String> {
    // The workers start from here: the workloads before removed the sessions they booked, and
    // the events of those are not this measurement's (planning them would find them gone).
    prolo_scheduler::models::events::sequence(conn)
        .await
        .map_err(|e| format!("cannot sequence the log: {e}"))?;
    conn.batch_execute(
        "UPDATE event_cursors SET position = (SELECT last_position FROM domain_event_sequence)",
    )
    .await
    .map_err(|e| format!("cannot move the cursors: {e}"))?;
    let sql = format!(
        "WITH a AS (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM treatment_areas),
              p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM providers),
              pt AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM patients)
         INSERT INTO waitlist_entries (id, patient_id, treatment_area_id, kind, provider_id,
                                       weekdays, window_start, window_end, urgent, source,
                                       created_at, updated_at)
         SELECT gen_random_uuid(), pt.id, a.id,
                CASE WHEN i % 5 < 3 THEN 'follow_up' ELSE 'injection' END,
                CASE WHEN i % 3 = 0 THEN p.id END,
                CASE WHEN i % 5 = 1 THEN ARRAY[1, 3, 5]::smallint[] ELSE '{{}}' END,
                CASE WHEN i % 5 = 2 THEN time '08:00' WHEN i % 5 = 3 THEN time '12:00' END,
                CASE WHEN i % 5 = 2 THEN time '12:00' WHEN i % 5 = 3 THEN time '18:00' END,
                i % 10 = 0, 'staff',
                now() - (i || ' minutes')::interval, now()
         FROM generate_series(0, {ENTRIES} - 1) i
         JOIN a ON a.n = i % 10
         JOIN p ON p.n = (i * 7) % (SELECT count(*) FROM p)
         JOIN pt ON pt.n = (i * 97) % (SELECT count(*) FROM pt);
         UPDATE clinic_settings SET waitlist_debounce_minutes = 0, quiet_hours_start = NULL,
                                    quiet_hours_end = NULL;
         ANALYZE waitlist_entries;"
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("cannot seed the waitlist: {e}"))
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
}

#[derive(QueryableByName)]
struct Sent {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    session_id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    last_sent: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    offered_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    offers: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    unsent: i64,
}

/// Cancels 100 upcoming sessions one after another (a tenth of a second apart) through
/// `service`, and waits for every offer to go.
pub async fn measure(
    conn: &mut AsyncPgConnection,
    service: &Service,
    key: &str,
) -> Result<Waitlist, String> {
    let sessions: Vec<Id> = diesel::sql_query(format!(
        "SELECT id FROM sessions WHERE status IN ('scheduled', 'confirmed')
           AND starts_at > now() + interval '1 day'
         ORDER BY hashtext(id::text) LIMIT {CANCELLATIONS}"
    ))
    .load(conn)
    .await
    .map_err(|e| format!("cannot pick sessions to cancel: {e}"))?;
    let mut committed = Vec::new();
    for session in &sessions {
        let path = format!("/v1/sessions/{}/cancel", session.id);
        let body = json!({"reason_code": "patient_request"});
        let (status, answer) = http::call(service.addr, "POST", &path, key, Some(&body))?;
        if status != 200 {
            return Err(format!("a cancellation answered {status}: {answer}"));
        }
        committed.push((session.id, Utc::now()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: Vec<uuid::Uuid> = sessions.iter().map(|s| s.id).collect();
    let query = "SELECT e.subject_id AS session_id, max(n.sent_at) AS last_sent,
                        max(f.created_at) AS offered_at,
                        count(f.id) AS offers, count(f.id) FILTER (WHERE n.sent_at IS NULL) AS unsent
                 FROM domain_events e
                 JOIN waitlist_openings o ON o.event_id = e.id
                 LEFT JOIN waitlist_offers f ON f.opening_id = o.id
                 LEFT JOIN notifications n ON n.waitlist_offer_id = f.id
                 WHERE e.type = 'session.cancelled' AND e.subject_id = ANY($1)
                 GROUP BY e.subject_id
                 HAVING bool_and(o.status <> 'pending')";
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let sent = loop {
        let sent: Vec<Sent> = diesel::sql_query(query)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
            .load(conn)
            .await
            .map_err(|e| format!("cannot read the offers: {e}"))?;
        let settled = sent.len() == ids.len() && sent.iter().all(|s| s.unsent == 0);
        if settled {
            break sent;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the waitlist did not settle: {} of {} openings offered",
                sent.len(),
                ids.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let since_commit = |of: fn(&Sent) -> Option<DateTime<Utc>>| {
        let mut found: Vec<f64> = sent
            .iter()
            .filter(|s| s.offers > 0)
            .filter_map(|s| {
                let (_, at) = committed.iter().find(|(id, _)| *id == s.session_id)?;
                Some((of(s)? - *at).num_microseconds()? as f64 / 1000.0)
            })
            .collect();
        found.sort_by(f64::total_cmp);
        found
    };
    let latencies = since_commit(|s| s.last_sent);
    let offered = since_commit(|s| s.offered_at);
    let pick = |sorted: &[f64], q: f64| match sorted.len() {
        0 => 0.0,
        n => sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1],
    };
    let figure = Waitlist {
        waiting: ENTRIES,
        cancellations: ids.len(),
        offered: latencies.len(),
        offers: sent.iter().map(|s| s.offers).sum(),
        offered_p50_ms: pick(&offered, 0.5),
        offered_p99_ms: pick(&offered, 0.99),
        p50_ms: pick(&latencies, 0.5),
        p99_ms: pick(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
    };
    eprintln!(
        "bench: waitlist: {} cancellations, {} offered ({} offers), p50 {:.0} ms p99 {:.0} ms",
        figure.cancellations, figure.offered, figure.offers, figure.p50_ms, figure.p99_ms
    );
    Ok(figure)
}
