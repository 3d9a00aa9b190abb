//! The benchmark: seeds a clinic at scale in a private PostgreSQL, starts the release service
//! against it, drives each workload with wrk at fixed concurrencies, replays the SQL the service
//! issues for bookings and availability through pgbench on the same database, and writes the
//! figures to `bench/results/<date>.{json,md}`. Run it with `bench/run` (see README).

mod http;
mod limit;
mod load;
mod minimal;
mod profile;
mod replay;
mod report;
mod seed;
mod standby;
mod waitlist;
mod workloads;

use std::path::PathBuf;

use chrono::Utc;
use clap::Parser;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use prolo_scheduler::db::{self, embedded::LocalCluster};
use prolo_scheduler::domain::access::Role;
use prolo_scheduler::models::api_keys::{self, NewApiKey};

/// Measures prolo-scheduler against the database's own limit.
#[derive(Debug, Clone, Parser)]
struct Args {
    /// Patients in the clinic.
    #[arg(long, default_value_t = 50_000)]
    patients: u32,
    /// Past sessions when the workloads run.
    #[arg(long, default_value_t = 200_000)]
    sessions: u32,
    /// Past sessions at each point of the scale curve (availability and booking).
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000,10000000")]
    curve: Vec<u32>,
    /// A clinic group (10 locations, 100 providers) instead of one clinic (3 and 20).
    #[arg(long)]
    group: bool,
    /// Concurrent connections of each workload run.
    #[arg(long, value_delimiter = ',', default_value = "8,16,32")]
    concurrency: Vec<u32>,
    /// Concurrent connections at the points of the scale curve.
    #[arg(long, default_value_t = 16)]
    curve_concurrency: u32,
    /// Seconds each run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Seconds of the same load before each run, not measured (warm caches and pools).
    #[arg(long, default_value_t = 3)]
    warmup: u32,
    /// Where the results are written.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// The service binary (a release build).
    #[arg(long, default_value = "target/release/prolo-scheduler")]
    service: PathBuf,
    /// Where the private PostgreSQL and the run's scratch files live (emptied first).
    #[arg(long, default_value = "/tmp/prolo-bench")]
    work_dir: PathBuf,
    /// A tiny clinic and one-second runs: checks that the benchmark works, measures nothing.
    #[arg(long)]
    smoke: bool,
    /// Run only these workloads (availability, days, next, booking, reschedule,
    /// provider_week, get_session, plan_course, profile, standby, waitlist); all when empty.
    /// `profile` splits booking's and availability's time into service CPU, PostgreSQL CPU and
    /// the rest; `standby` measures the booking page's reads without and with a standby.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl Args {
    fn wants(&self, workload: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|name| name == workload)
    }

    fn effective(mut self) -> Self {
        if self.smoke {
            self.patients = 300;
            self.sessions = 600;
            self.curve = vec![300, 600];
            self.concurrency = vec![4];
            self.curve_concurrency = 4;
            self.seconds = 1;
            self.warmup = 0;
        }
        if !self.curve.contains(&self.sessions) {
            self.curve.push(self.sessions);
        }
        self.curve.sort_unstable();
        self.curve.dedup();
        self
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse().effective();
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    // A run stopped by a signal leaves its server running: stop it before emptying its home.
    if args.work_dir.join("postgres/postmaster.pid").exists()
        && let Ok(left) = LocalCluster::start(&args.work_dir).await
    {
        let _ = left.stop().await;
    }
    let _ = std::fs::remove_dir_all(&args.work_dir);
    std::fs::create_dir_all(&args.work_dir).map_err(|e| format!("cannot create work dir: {e}"))?;
    let scratch = args.work_dir.join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| format!("cannot create scratch dir: {e}"))?;
    let cluster = LocalCluster::start(&args.work_dir)
        .await
        .map_err(|e| e.to_string())?;
    size_buffers(&cluster).await?;
    let result = measure(args, &cluster, &scratch).await;
    cluster.stop().await.map_err(|e| e.to_string())?;
    result
}

/// Gives the server a quarter of the machine's memory for its buffers (at most 4 GiB), as a
/// database of millions of sessions is configured, rather than the 128 MB PostgreSQL starts
/// with: 10M past sessions and their indexes are ~4 GB, and the calendars a search reads lie
/// scattered through them.
async fn size_buffers(cluster: &LocalCluster) -> Result<(), String> {
    let memory_mb = report::memory_mb().unwrap_or(1024.0);
    let buffers_mb = (memory_mb / 4.0).clamp(128.0, 4096.0) as u64;
    let mut conn = db::establish(&cluster.url("postgres")).await?;
    conn.batch_execute(&format!(
        "ALTER SYSTEM SET shared_buffers = '{buffers_mb}MB'"
    ))
    .await
    .map_err(|e| format!("cannot size the buffers: {e}"))?;
    drop(conn);
    cluster.stop().await.map_err(|e| e.to_string())?;
    cluster.restart().await.map_err(|e| e.to_string())?;
    eprintln!("bench: shared_buffers = {buffers_mb} MB");
    Ok(())
}

async fn measure(
    args: &Args,
    cluster: &LocalCluster,
    scratch: &std::path::Path,
) -> Result<(), String> {
    let database = "prolo_bench";
    cluster
        .ensure_database(database)
        .await
        .map_err(|e| e.to_string())?;
    let url = cluster.url(database);
    db::migrate(&url).await?;
    let mut conn = db::establish(&url).await?;
    let started = std::time::Instant::now();
    prolo_scheduler::app::demo::seed_if_empty(&mut conn)
        .await
        .map_err(|e| format!("cannot seed the demo clinic: {e}"))?;
    let scale = if args.group {
        seed::Scale::GROUP
    } else {
        seed::Scale::CLINIC
    };
    seed::catalog(&mut conn, scale, args.patients).await?;
    seed::upcoming(&mut conn, scale).await?;
    eprintln!(
        "bench: seeded the clinic in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let (secret, key) = NewApiKey::generate(Role::Staff, "bench", None, None)
        .map_err(|e| format!("cannot make a key: {e}"))?;
    api_keys::insert(&mut conn, key)
        .await
        .map_err(|e| format!("cannot store the key: {e}"))?;
    let running = load::start_service(&args.service, &url, scratch, false, &[])?;
    let service = &running.service;
    let inputs = workloads::Inputs::gather(&mut conn, service.addr, &secret).await?;

    let mut report = report::Report::new(scale, args.patients, args.sessions, args.seconds);
    // The largest of ten answers of each of the booking page's reads, plain and gzipped.
    for workload in [inputs.availability(), inputs.days(), inputs.next()]
        .into_iter()
        .filter(|w| args.wants(w.name))
    {
        let mut largest = (0, 0);
        for call in workload.calls.iter().take(10) {
            largest = largest.max(http::answer_bytes(service.addr, &call.path, &secret)?);
        }
        report.answers.push(report::AnswerSize {
            what: workload.name.to_owned(),
            bytes: largest.0,
            gzip_bytes: largest.1,
        });
    }
    let load = Load {
        service,
        key: &secret,
        scratch,
        seconds: args.seconds,
        warmup: args.warmup,
    };
    let mut have = 0;
    for &sessions in &args.curve {
        let grow = std::time::Instant::now();
        seed::grow_history(&mut conn, scale, have, sessions).await?;
        have = sessions;
        eprintln!(
            "bench: {sessions} past sessions (grown in {:.1} s)",
            grow.elapsed().as_secs_f64()
        );
        let curve_runs = [
            inputs.availability(),
            inputs.availability_location(),
            inputs.booking(),
        ];
        for workload in curve_runs.iter().filter(|w| args.wants(w.name)) {
            let measured = measure_once(&mut conn, &load, workload, args.curve_concurrency).await?;
            report.curve.push(report::CurvePoint { sessions, measured });
        }
        if sessions == args.sessions {
            for workload in inputs.all().into_iter().filter(|w| args.wants(w.name)) {
                for &concurrency in &args.concurrency {
                    let measured = measure_once(&mut conn, &load, &workload, concurrency).await?;
                    report.api.push(measured);
                }
            }
            if args.wants("profile") {
                let postmaster = load::postmaster(&args.work_dir.join("postgres"))?;
                report.profile = profile::measure(&mut conn, &load, &inputs, postmaster).await?;
            }
            report.sql =
                limit::replay_limit(args, cluster, &mut conn, &inputs, service, &secret, scratch)
                    .await?;
        }
    }
    // The same searches and bookings without and with every assessment needing a room and the
    // ultrasound, alternated over two passes so that neither variant gets the later, warmer
    // (or more bloated) database.
    let plain = [inputs.availability(), inputs.booking()];
    if plain.iter().any(|w| args.wants(w.name)) {
        seed::resources(&mut conn).await?;
        for _pass in 0..2 {
            for needed in [false, true] {
                seed::require_resources(&mut conn, needed).await?;
                for workload in inputs
                    .all()
                    .into_iter()
                    .filter(|w| ["availability", "booking"].contains(&w.name) && args.wants(w.name))
                {
                    let workload = load::Workload {
                        name: workloads::variant(workload.name, needed),
                        ..workload
                    };
                    for &concurrency in &args.concurrency {
                        let measured =
                            measure_once(&mut conn, &load, &workload, concurrency).await?;
                        report.resources.push(measured);
                    }
                }
            }
        }
        seed::require_resources(&mut conn, false).await?;
    }
    if args.wants("standby") {
        report.standby =
            standby::measure(args, cluster, &mut conn, &load, &inputs, database).await?;
    }
    if args.wants("waitlist") {
        // Last: it cancels upcoming sessions. Its own service runs the workers.
        drop(running);
        waitlist::seed(&mut conn).await?;
        let offering = load::start_service(&args.service, &url, scratch, true, &[])?;
        report.waitlist = Some(waitlist::measure(&mut conn, &offering.service, &secret).await?);
    }
    report.write(&args.out)
}

/// What every measured run shares.
struct Load<'a> {
    service: &'a load::Service,
    key: &'a str,
    scratch: &'a std::path::Path,
    seconds: u32,
    warmup: u32,
}

/// Warms up, runs one workload, and puts the calendar back as it was (bookings it made are
/// removed).
async fn measure_once(
    conn: &mut AsyncPgConnection,
    load: &Load<'_>,
    workload: &load::Workload,
    concurrency: u32,
) -> Result<load::Measured, String> {
    if load.warmup > 0 {
        let since = Utc::now();
        load::run(
            load.service,
            workload,
            load.key,
            concurrency,
            load.warmup,
            load.scratch,
        )?;
        forget_bookings_since(conn, since).await?;
    }
    let since = Utc::now();
    let measured = load::run(
        load.service,
        workload,
        load.key,
        concurrency,
        load.seconds,
        load.scratch,
    )?;
    eprintln!(
        "bench: {:<16} c={:<3} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:?}",
        measured.workload,
        concurrency,
        measured.requests_per_second,
        measured.p50_ms,
        measured.p99_ms,
        measured.statuses
    );
    forget_bookings_since(conn, since).await?;
    Ok(measured)
}

/// Warms up, then measures one run and the CPU seconds each PostgreSQL server of `servers`
/// (their postmasters' pids) spent during it.
async fn measure_servers(
    conn: &mut AsyncPgConnection,
    load: &Load<'_>,
    workload: &load::Workload,
    concurrency: u32,
    servers: &[u32],
) -> Result<(load::Measured, Vec<f64>), String> {
    let warm = Load {
        seconds: load.warmup.max(1),
        warmup: 0,
        ..*load
    };
    let warming = load::Workload {
        name: "(warm-up)",
        ..workload.clone()
    };
    measure_once(conn, &warm, &warming, concurrency).await?;
    let measured_only = Load { warmup: 0, ..*load };
    let before: Vec<f64> = servers
        .iter()
        .map(|&pid| load::server_cpu_seconds(pid))
        .collect();
    let measured = measure_once(conn, &measured_only, workload, concurrency).await?;
    let spent = servers
        .iter()
        .zip(before)
        .map(|(&pid, before)| load::server_cpu_seconds(pid) - before)
        .collect();
    Ok((measured, spent))
}

async fn forget_bookings_since(
    conn: &mut AsyncPgConnection,
    since: chrono::DateTime<Utc>,
) -> Result<(), String> {
    // One statement, one snapshot: a session and its history are seen (and removed) together,
    // even while a request cut off at the end of the run still commits.
    let stamp = since.to_rfc3339();
    conn.batch_execute(&format!(
        "WITH doomed AS (SELECT id FROM sessions WHERE created_at >= '{stamp}'),
              events AS (DELETE FROM session_events WHERE session_id IN (SELECT id FROM doomed)),
              notes AS (DELETE FROM notifications WHERE session_id IN (SELECT id FROM doomed)
                        RETURNING id),
              links AS (DELETE FROM unsubscribe_tokens
                        WHERE notification_id IN (SELECT id FROM notes))
         DELETE FROM sessions WHERE id IN (SELECT id FROM doomed);"
    ))
    .await
    .map_err(|e| format!("cannot reset the calendar: {e}"))
}
