//! Reads on a standby: the booking page's reads through a service on the primary alone, then
//! through one sending them to a streaming standby (`PROLO_READ_DATABASE_URL`, made here with
//! `pg_basebackup -R`), alternated on one database, with the CPU each server spent per request.
//! The bench key's reads are the fenced kind: each asks the primary for its position first.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel_async::AsyncPgConnection;
use prolo_scheduler::db::embedded::LocalCluster;
use serde::Serialize;

use crate::load::{self, Measured, postmaster};
use crate::{Args, Load, measure_servers, workloads};

/// One workload at one concurrency, without and with the standby.
#[derive(Debug, Clone, Serialize)]
pub struct StandbyRun {
    pub without: Measured,
    pub with: Measured,
    /// CPU milliseconds per request: the primary's without the standby, then with it, and the
    /// standby's.
    pub primary_cpu_ms: f64,
    pub primary_cpu_ms_with: f64,
    pub standby_cpu_ms_with: f64,
}

/// Makes the standby, measures, stops it.
pub async fn measure(
    args: &Args,
    cluster: &LocalCluster,
    conn: &mut AsyncPgConnection,
    primary_only: &Load<'_>,
    inputs: &workloads::Inputs,
    database: &str,
) -> Result<Vec<StandbyRun>, String> {
    let started = Instant::now();
    let root = args.work_dir.join("standby");
    let standby = cluster
        .start_standby(&root)
        .await
        .map_err(|e| format!("cannot make the standby: {e}"))?;
    eprintln!(
        "bench: standby copied and started in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let urls = (cluster.url(database), standby.url(database));
    let result = alternate(args, conn, primary_only, inputs, &urls, &root).await;
    let _ = standby.stop().await;
    result
}

async fn alternate(
    args: &Args,
    conn: &mut AsyncPgConnection,
    primary_only: &Load<'_>,
    inputs: &workloads::Inputs,
    (primary_url, standby_url): &(String, String),
    standby_root: &Path,
) -> Result<Vec<StandbyRun>, String> {
    let env = [("PROLO_READ_DATABASE_URL", standby_url.as_str())];
    let reading = load::start_service(
        &args.service,
        primary_url,
        primary_only.scratch,
        false,
        &env,
    )?;
    wait_for_log(
        &primary_only.scratch.join("service-configured.log"),
        "reads go to the standby",
    )?;
    let with_standby = Load {
        service: &reading.service,
        ..*primary_only
    };
    let primary_pid = postmaster(&args.work_dir.join("postgres"))?;
    let standby_pid = postmaster(&standby_root.join("postgres"))?;
    let mut runs = Vec::new();
    for workload in [inputs.availability(), inputs.days(), inputs.next()] {
        for &concurrency in &args.concurrency {
            let (without, primary_cpu) =
                measure_servers(conn, primary_only, &workload, concurrency, &[primary_pid]).await?;
            let (with, cpu) = measure_servers(
                conn,
                &with_standby,
                &workload,
                concurrency,
                &[primary_pid, standby_pid],
            )
            .await?;
            let per_request =
                |seconds: f64, m: &Measured| 1000.0 * seconds / m.requests.max(1) as f64;
            runs.push(StandbyRun {
                primary_cpu_ms: per_request(primary_cpu[0], &without),
                primary_cpu_ms_with: per_request(cpu[0], &with),
                standby_cpu_ms_with: per_request(cpu[1], &with),
                without,
                with,
            });
        }
    }
    Ok(runs)
}

/// Waits up to 30 s for `line` in the log at `path`.
fn wait_for_log(path: &Path, line: &str) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if std::fs::read_to_string(path).is_ok_and(|log| log.contains(line)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{} never said \"{line}\"", path.display()))
}
