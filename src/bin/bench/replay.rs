//! The database's own limit: the SQL the service really sends for one request, captured from
//! PostgreSQL's statement log while the request runs, turned into a pgbench script, and
//! replayed by pgbench at the same concurrency against the same database.
//!
//! Parameters are written back as literals, with three changes so that replays stay valid:
//! every timestamp becomes `to_timestamp(epoch)` (pgbench would read the colons of
//! `09:00:00` as variables; other text with a colon, such as an event's JSON, becomes an
//! escape string with `\x3a` for each colon); timestamps of the request's own times (a day or more ahead) move
//! together by a random `:shift` per transaction; and ids that the request created (the first
//! value of an `INSERT`, its primary key, not seen before) become fresh random ids, so that
//! replays never collide.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use serde::Serialize;

/// One statement as the service sent it, with its parameters as PostgreSQL logged them.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    /// `None` for a NULL; otherwise the value's text, quotes doubled as in SQL.
    pub params: Vec<Option<String>>,
}

/// Turns statement logging on for every session, returning where the log stands now.
pub async fn start_capture(conn: &mut AsyncPgConnection, log: &Path) -> Result<u64, String> {
    // One statement at a time: ALTER SYSTEM refuses to run inside a (implicit) transaction.
    // A statement's parameters are logged as its DETAIL, which the embedded cluster keeps out
    // of its log (terse errors); the bench's clinic is made up, so the capture may see them.
    for statement in [
        "ALTER SYSTEM SET log_statement = 'all'",
        "ALTER SYSTEM SET log_line_prefix = '%m [%p] '",
        "ALTER SYSTEM SET log_error_verbosity = 'default'",
        "SELECT pg_reload_conf()",
    ] {
        conn.batch_execute(statement)
            .await
            .map_err(|e| format!("cannot turn on statement logging: {e}"))?;
    }
    // Backends read the new setting before their next command; give the signal time to land.
    std::thread::sleep(std::time::Duration::from_millis(300));
    Ok(std::fs::metadata(log).map_or(0, |m| m.len()))
}

/// Turns statement logging off and returns what the service's sessions (not `own_pid`) sent
/// since `from`.
pub async fn stop_capture(
    conn: &mut AsyncPgConnection,
    log: &Path,
    from: u64,
    own_pid: i32,
) -> Result<Vec<Statement>, String> {
    for statement in [
        "ALTER SYSTEM RESET log_statement",
        "ALTER SYSTEM SET log_error_verbosity = 'terse'",
        "SELECT pg_reload_conf()",
    ] {
        conn.batch_execute(statement)
            .await
            .map_err(|e| format!("cannot turn off statement logging: {e}"))?;
    }
    let text = std::fs::read(log).map_err(|e| format!("cannot read the server log: {e}"))?;
    let text = String::from_utf8_lossy(&text[(from as usize).min(text.len())..]).into_owned();
    Ok(parse_log(&text, own_pid))
}

fn parse_log(text: &str, own_pid: i32) -> Vec<Statement> {
    let mut statements: Vec<Statement> = Vec::new();
    let mut last_by_pid: HashMap<i32, usize> = HashMap::new();
    // The statement the previous line began, which a continuation line carries on.
    let mut continued: Option<usize> = None;
    for line in text.lines() {
        // PostgreSQL writes the further lines of a multi-line message indented by a tab.
        if let Some(more) = line.strip_prefix('\t') {
            if let Some(index) = continued {
                statements[index].sql.push('\n');
                statements[index].sql.push_str(more);
            }
            continue;
        }
        continued = None;
        let Some((pid, rest)) = line
            .split_once(" [")
            .and_then(|(_, rest)| rest.split_once("] "))
            .and_then(|(pid, rest)| Some((pid.parse::<i32>().ok()?, rest)))
        else {
            continue;
        };
        if pid == own_pid {
            continue;
        }
        if let Some(sql) = rest.strip_prefix("LOG:  statement: ").or_else(|| {
            rest.strip_prefix("LOG:  execute ")
                .and_then(|r| r.split_once(": ").map(|(_, sql)| sql))
        }) {
            last_by_pid.insert(pid, statements.len());
            continued = Some(statements.len());
            statements.push(Statement {
                sql: sql.to_owned(),
                params: Vec::new(),
            });
        } else if let Some(params) = rest.strip_prefix("DETAIL:  parameters: ")
            && let Some(&index) = last_by_pid.get(&pid)
        {
            statements[index].params = parse_params(params);
        }
    }
    statements
}

/// Reads `$1 = 'a', $2 = NULL, $3 = 'it''s'`.
fn parse_params(text: &str) -> Vec<Option<String>> {
    let mut values = Vec::new();
    let mut rest = text;
    while let Some((_, after)) = rest.split_once(" = ") {
        if let Some(after_null) = after.strip_prefix("NULL") {
            values.push(None);
            rest = after_null;
            continue;
        }
        let Some(quoted) = after.strip_prefix('\'') else {
            break;
        };
        let mut value = String::new();
        let mut chars = quoted.char_indices().peekable();
        let mut end = quoted.len();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                    value.push_str("''");
                    chars.next();
                    continue;
                }
                end = i + 1;
                break;
            }
            value.push(c);
        }
        values.push(Some(value));
        rest = &quoted[end..];
    }
    values
}

/// The pgbench script replaying `statements`; `shift` is the `\set` line giving `:shift`
/// seconds for this transaction, applied to timestamps at or after `moving_from`.
pub fn script(
    statements: &[Statement],
    shift: &str,
    moving_from: DateTime<Utc>,
) -> Result<String, String> {
    let mut fresh_ids: HashMap<String, usize> = HashMap::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut body = String::new();
    for statement in statements {
        let inserting = statement
            .sql
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("INSERT");
        let mut rendered = Vec::with_capacity(statement.params.len());
        for (index, value) in statement.params.iter().enumerate() {
            rendered.push(match value {
                None => "NULL".to_owned(),
                Some(text) => {
                    if let Some(instant) = timestamp(text) {
                        let epoch = instant.timestamp_micros() as f64 / 1e6;
                        if instant >= moving_from {
                            format!("to_timestamp({epoch} + (:shift)::bigint)")
                        } else {
                            format!("to_timestamp({epoch})")
                        }
                    } else if uuid::Uuid::try_parse(text).is_ok()
                        && (fresh_ids.contains_key(text)
                            || (inserting && index == 0 && !seen.contains(text)))
                    {
                        let next = fresh_ids.len() + 1;
                        let n = *fresh_ids.entry(text.clone()).or_insert(next);
                        format!("(lpad(to_hex((:id{n})::bigint), 32, '0'))::uuid")
                    } else if text.contains(':') {
                        // An escape string with each colon as `\x3a`: still an untyped
                        // literal (so it casts to jsonb or text like the original), and
                        // nothing pgbench would read as a variable.
                        // (Quotes come from the log doubled already.)
                        let escaped = text.replace('\\', "\\\\").replace(':', "\\x3a");
                        format!("E'{escaped}'")
                    } else {
                        format!("'{text}'")
                    }
                }
            });
        }
        for value in statement.params.iter().flatten() {
            seen.insert(value.clone());
        }
        let _ = writeln!(body, "{};", substitute(&statement.sql, &rendered));
    }
    let mut head = format!("{shift}\n");
    for n in 1..=fresh_ids.len() {
        let _ = writeln!(head, "\\set id{n} random(1, 9223372036854775806)");
    }
    Ok(head + &body)
}

/// Replaces `$1`, `$2`, … in `sql` with `values`.
fn substitute(sql: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            let start = i + 1;
            let mut end = start;
            while let Some((j, d)) = chars.peek().copied() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            let index: usize = sql[start..end].parse().unwrap_or(0);
            match values.get(index.wrapping_sub(1)) {
                Some(value) => out.push_str(value),
                None => out.push_str(&sql[i..end]),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z")
        .ok()
        .map(|t| t.to_utc())
}

/// What pgbench measured.
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    pub workload: String,
    pub concurrency: u32,
    pub transactions: u64,
    pub transactions_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: u64,
}

/// Where pgbench connects.
pub struct Target {
    pub pgbench: PathBuf,
    pub port: u16,
    pub password: String,
    pub database: String,
}

/// Runs the scripts (one picked at random per transaction) at `concurrency` for `seconds`.
pub fn run(
    target: &Target,
    workload: &str,
    scripts: &[PathBuf],
    concurrency: u32,
    seconds: u32,
    dir: &Path,
) -> Result<Replayed, String> {
    let logs = dir.join(format!("pgbench-{workload}-{concurrency}"));
    // Fresh each run: the latencies read back are this run's alone.
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let mut command = Command::new(&target.pgbench);
    command
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &concurrency.to_string(), "-T", &seconds.to_string()])
        // `n` counts each client's transactions; with `clients`, scripts can draw unique values.
        .args(["-D", "n=0", "-D", &format!("clients={concurrency}")])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &target.port.to_string(),
            "-U",
            "postgres",
        ])
        .arg("-l")
        .arg(format!("--log-prefix={}", logs.join("log").display()))
        .env("PGPASSWORD", &target.password);
    for script in scripts {
        command.arg("-f").arg(script);
    }
    let output = command
        .arg(&target.database)
        .output()
        .map_err(|e| format!("cannot run pgbench: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let number = |prefix: &str| -> Option<f64> {
        stdout.lines().find_map(|line| {
            line.trim()
                .strip_prefix(prefix)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
    };
    let transactions = number("number of transactions actually processed:").ok_or_else(|| {
        format!(
            "pgbench gave no result for {workload}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    // An aborted replay measured nothing: fail loudly, so that the smoke run in CI catches a
    // statement the capture garbled.
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(format!("pgbench {workload} aborted: {}", tail.join(" | ")));
    }
    let tps = number("tps =").unwrap_or(0.0);
    let failed = number("number of failed transactions:").unwrap_or(0.0);
    let mut latencies = read_latencies(&logs);
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index] as f64 / 1000.0
    };
    Ok(Replayed {
        workload: workload.to_owned(),
        concurrency,
        transactions: transactions as u64,
        transactions_per_second: tps,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        failed: failed as u64,
    })
}

/// Latencies in microseconds from pgbench's per-transaction logs (the third field).
fn read_latencies(dir: &Path) -> Vec<u64> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        all.extend(
            text.lines()
                .filter_map(|line| line.split_whitespace().nth(2))
                .filter_map(|n| n.parse::<u64>().ok()),
        );
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_statements_and_parameters_are_read_back() {
        let log = "2026-12-01 07:50:01.123 UTC [42] LOG:  statement: BEGIN\n\
                   2026-12-01 07:50:01.124 UTC [42] LOG:  execute s1: SELECT $1, $2, $3\n\
                   2026-12-01 07:50:01.124 UTC [42] DETAIL:  parameters: $1 = 'it''s, $2 = x', $2 = NULL, $3 = '7'\n\
                   2026-12-01 07:50:01.125 UTC [7] LOG:  statement: SELECT pg_reload_conf()\n\
                   2026-12-01 07:50:01.126 UTC [42] LOG:  execute s2: SELECT 1,\n\
                   \t       2\n\
                   2026-12-01 07:50:01.127 UTC [7] LOG:  statement: SELECT 3,\n\
                   \t       4\n";
        let statements = parse_log(log, 7);
        assert_eq!(statements.len(), 3);
        assert_eq!(statements[2].sql, "SELECT 1,\n       2");
        assert_eq!(statements[0].sql, "BEGIN");
        assert_eq!(
            statements[1].params,
            [Some("it''s, $2 = x".to_owned()), None, Some("7".to_owned())]
        );
    }

    #[test]
    fn replays_move_the_request_s_times_and_mint_fresh_ids() {
        // An existing row's id met first inside an INSERT (not as its key) stays as it is.
        const KEY: &str = "0193a2b4-0000-7000-8000-000000000003";
        let new_id = "0193a2b4-0000-7000-8000-000000000001";
        let known = "0193a2b4-0000-7000-8000-000000000002";
        let statements = vec![
            Statement {
                sql: "SELECT * FROM providers WHERE id = $1".into(),
                params: vec![Some(known.into())],
            },
            Statement {
                sql: "INSERT INTO sessions (id, provider_id, starts_at, created_at, key_id) VALUES ($1, $2, $3, $4, $5)".into(),
                params: vec![
                    Some(new_id.into()),
                    Some(known.into()),
                    Some("2027-01-05 16:00:00+00".into()),
                    Some("2027-01-01 09:00:00.5+00".into()),
                    Some(KEY.into()),
                ],
            },
            Statement {
                sql: "INSERT INTO session_events (session_id) VALUES ($1)".into(),
                params: vec![Some(new_id.into())],
            },
        ];
        let moving_from = "2027-01-02T00:00:00Z".parse().unwrap();
        let script = script(&statements, "\\set shift 0", moving_from).unwrap();
        assert!(script.starts_with("\\set shift 0\n\\set id1 random("));
        assert!(script.contains(&format!("WHERE id = '{known}';")));
        assert!(script.contains(
            "VALUES ((lpad(to_hex((:id1)::bigint), 32, '0'))::uuid, '0193a2b4-0000-7000-8000-000000000002', \
             to_timestamp(1799164800 + (:shift)::bigint), to_timestamp(1798794000.5), \
             '0193a2b4-0000-7000-8000-000000000003');"
        ));
        assert!(script.ends_with(
            "INSERT INTO session_events (session_id) VALUES ((lpad(to_hex((:id1)::bigint), 32, '0'))::uuid);\n"
        ));
    }

    #[test]
    fn text_with_colons_becomes_an_escape_string_pgbench_leaves_alone() {
        let statements = vec![Statement {
            sql: "INSERT INTO domain_events (type, data) VALUES ($1, $2)".into(),
            params: vec![
                Some("session.booked".into()),
                Some(r#"{"at": "2027-01-05T16:00:00Z", "note": "it''s \ fine"}"#.into()),
            ],
        }];
        let moving_from = "2027-01-02T00:00:00Z".parse().unwrap();
        let script = script(&statements, "\\set shift 0", moving_from).unwrap();
        assert!(script.contains(
            r#"VALUES ('session.booked', E'{"at"\x3a "2027-01-05T16\x3a00\x3a00Z", "note"\x3a "it''s \\ fine"}');"#
        ), "{script}");
    }
}
