//! Where a request's time goes: one client at a time (and then 16), each request's wall time
//! split into the service's CPU, PostgreSQL's CPU (every process of its server: backends, WAL
//! writer, checkpointer) and the rest: the wire (loopback round trips between client, service
//! and database), wake-ups, and wrk's own work. CPU comes from `/proc/<pid>/stat`.

use diesel_async::AsyncPgConnection;
use serde::Serialize;

use crate::{Load, load, measure_servers, workloads};

/// One workload at one concurrency, per request.
#[derive(Debug, Clone, Serialize)]
pub struct Split {
    pub workload: String,
    pub concurrency: u32,
    pub requests_per_second: f64,
    /// Wall time per request: concurrency / throughput (at one client, its mean latency).
    pub wall_ms: f64,
    pub service_cpu_ms: f64,
    pub postgres_cpu_ms: f64,
    /// Wall time neither process spent on the CPU for it (at one client only; at more, the
    /// requests overlap and the CPU figures are the cost of each).
    pub rest_ms: f64,
}

/// Booking and availability at one client and at 16.
pub async fn measure(
    conn: &mut AsyncPgConnection,
    load: &Load<'_>,
    inputs: &workloads::Inputs,
    postmaster: u32,
) -> Result<Vec<Split>, String> {
    let mut splits = Vec::new();
    for workload in [inputs.booking(), inputs.availability()] {
        for concurrency in [1, 16] {
            let (measured, postgres) =
                measure_servers(conn, load, &workload, concurrency, &[postmaster]).await?;
            splits.push(split(&measured, postgres[0]));
        }
    }
    Ok(splits)
}

fn split(measured: &load::Measured, postgres_seconds: f64) -> Split {
    let requests = measured.requests.max(1) as f64;
    let wall_ms = 1000.0 * f64::from(measured.concurrency) / measured.requests_per_second.max(1.0);
    // CPU seconds per 1,000 requests are CPU milliseconds per request.
    let service_cpu_ms = measured.cpu_seconds_per_1000;
    let postgres_cpu_ms = 1000.0 * postgres_seconds / requests;
    Split {
        workload: measured.workload.clone(),
        concurrency: measured.concurrency,
        requests_per_second: measured.requests_per_second,
        wall_ms,
        service_cpu_ms,
        postgres_cpu_ms,
        rest_ms: if measured.concurrency == 1 {
            (wall_ms - service_cpu_ms - postgres_cpu_ms).max(0.0)
        } else {
            0.0
        },
    }
}
