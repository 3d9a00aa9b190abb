//! Against the database's own limit: the SQL the service sends for a booking and for a search,
//! captured from PostgreSQL's statement log, and the least SQL that does the same job, each
//! replayed through pgbench on the same database.

use std::path::PathBuf;

use chrono::Utc;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use prolo_scheduler::db::embedded::LocalCluster;

use crate::{Args, forget_bookings_since, http, load, minimal, replay, report, workloads};

/// pgbench beside the server's binaries (following links to where they really are), or on PATH.
fn pgbench(bin_dir: &std::path::Path) -> PathBuf {
    let real_dir = std::fs::canonicalize(bin_dir.join("postgres"))
        .ok()
        .and_then(|postgres| postgres.parent().map(std::path::Path::to_path_buf));
    [Some(bin_dir.to_path_buf()), real_dir]
        .into_iter()
        .flatten()
        .map(|dir| dir.join("pgbench"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("pgbench"))
}

/// The statements of the first of `candidates` the service accepts (a random slot may have
/// been taken meanwhile), and that call.
async fn capture_first_accepted<'c>(
    conn: &mut AsyncPgConnection,
    log: &std::path::Path,
    own_pid: i32,
    service: &load::Service,
    key: &str,
    candidates: &'c [load::Call],
) -> Result<(Vec<replay::Statement>, &'c load::Call), String> {
    let mut last = String::from("no candidate");
    for call in candidates {
        let from = replay::start_capture(conn, log).await?;
        let body = call
            .body
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| format!("bad capture body: {e}"))?;
        let (status, answer) =
            http::call(service.addr, call.method, &call.path, key, body.as_ref())?;
        let statements = replay::stop_capture(conn, log, from, own_pid).await?;
        if (200..300).contains(&status) {
            return Ok((statements, call));
        }
        last = format!("{} {} answered {status}: {answer}", call.method, call.path);
    }
    Err(format!("no capture was accepted; the last: {last}"))
}

/// Captures the SQL of a booking per provider and of an availability search per area, and
/// replays each set through pgbench at every concurrency.
pub async fn replay_limit(
    args: &Args,
    cluster: &LocalCluster,
    conn: &mut AsyncPgConnection,
    inputs: &workloads::Inputs,
    service: &load::Service,
    key: &str,
    scratch: &std::path::Path,
) -> Result<Vec<replay::Replayed>, String> {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let own_pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .await
        .map_err(|e| format!("cannot read the backend pid: {e}"))?
        .pid;
    let log = cluster.log_file();
    let since = Utc::now();
    let mut sets = Vec::new();
    for (name, shift) in [
        // Each booking replay moves by its own whole number of 366-day years: the captured
        // times lie within one horizon, so no two replays can overlap. The year comes from a
        // per-client counter (`n`, see `replay::run`) scattered by a bijection modulo a prime,
        // so that inserts spread over the indexes as the API's do instead of piling onto their
        // right edge; all land beyond three years, where they are cleaned up.
        (
            "booking",
            "\\set n :n + 1\n\\set shift (3 + ((:n * :clients + :client_id) * 7919) % 199999) * 31622400",
        ),
        ("availability", "\\set shift random(0, 10) * 604800"),
    ] {
        if !args.wants(name) {
            continue;
        }
        let calls = match name {
            "booking" => inputs.booking_captures(service.addr, key)?,
            _ => inputs.availability_captures(),
        };
        let (mut scripts, mut minimal) = (Vec::new(), Vec::new());
        for (n, candidates) in calls.iter().enumerate() {
            let (statements, call) =
                capture_first_accepted(conn, &log, own_pid, service, key, candidates).await?;
            let moving_from = Utc::now() + chrono::Duration::days(1);
            let own = replay::script(&statements, shift, moving_from)?;
            let least = match name {
                "booking" => minimal::booking_script(call, shift)?,
                _ => minimal::availability_script(call, shift)?,
            };
            scripts.push(write_script(scratch, &format!("{name}-{n}.sql"), own)?);
            minimal.push(write_script(
                scratch,
                &format!("{name}-minimal-{n}.sql"),
                least,
            )?);
        }
        sets.push((name.to_owned(), scripts));
        sets.push((format!("{name}{}", report::MINIMAL), minimal));
    }
    conn.batch_execute(minimal::BOOK_FUNCTION)
        .await
        .map_err(|e| format!("cannot install the minimal booking: {e}"))?;
    let (port, password) = cluster.credentials();
    let target = replay::Target {
        pgbench: pgbench(cluster.bin_dir()),
        port,
        password: password.to_owned(),
        database: "prolo_bench".to_owned(),
    };
    let mut replayed = Vec::new();
    for (name, scripts) in &sets {
        for &concurrency in &args.concurrency {
            if args.warmup > 0 {
                replay::run(&target, name, scripts, concurrency, args.warmup, scratch)?;
                forget_replayed(conn).await?;
            }
            let result = replay::run(&target, name, scripts, concurrency, args.seconds, scratch)?;
            if name.starts_with("booking") {
                // Every replayed booking books (a refusal would be a cheaper transaction).
                let booked = replayed_bookings(conn).await?;
                if booked < result.transactions {
                    return Err(format!(
                        "{name}: {booked} sessions from {} transactions",
                        result.transactions
                    ));
                }
            }
            eprintln!(
                "bench: sql {:<12} c={:<3} {:>8.0} tx/s   p50 {:>6.2} ms  p99 {:>6.2} ms  failed {}",
                name,
                concurrency,
                result.transactions_per_second,
                result.p50_ms,
                result.p99_ms,
                result.failed
            );
            replayed.push(result);
            forget_replayed(conn).await?;
        }
    }
    forget_bookings_since(conn, since).await?;
    Ok(replayed)
}

fn write_script(dir: &std::path::Path, name: &str, script: String) -> Result<PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, script).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    path.canonicalize().map_err(|e| e.to_string())
}

/// How many sessions pgbench's bookings made (they lie years ahead).
async fn replayed_bookings(conn: &mut AsyncPgConnection) -> Result<u64, String> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = diesel::sql_query(
        "SELECT count(*) AS n FROM sessions WHERE starts_at > now() + interval '3 years'",
    )
    .get_result::<Count>(conn)
    .await
    .map_err(|e| format!("cannot count pgbench's bookings: {e}"))?;
    Ok(count.n.max(0) as u64)
}

/// Removes pgbench's bookings, which lie years ahead (the API's own are removed by time).
async fn forget_replayed(conn: &mut AsyncPgConnection) -> Result<(), String> {
    conn.batch_execute(
        "WITH doomed AS (SELECT id FROM sessions WHERE starts_at > now() + interval '3 years'),
              events AS (DELETE FROM session_events WHERE session_id IN (SELECT id FROM doomed))
         DELETE FROM sessions WHERE id IN (SELECT id FROM doomed);",
    )
    .await
    .map_err(|e| format!("cannot remove pgbench's bookings: {e}"))
}
