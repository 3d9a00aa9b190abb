//! The results: `<date>.json` with every figure and `<date>.md` with the tables, both under
//! the output directory; the Markdown is printed too.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::load::Measured;
use crate::replay::Replayed;

/// The suffix of a minimal-SQL replay's workload name (`booking-minimal`).
pub const MINIMAL: &str = "-minimal";

/// A point of the scale curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    pub sessions: u32,
    pub measured: Measured,
}

/// Everything one benchmark run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    pub date: String,
    pub machine: String,
    pub patients: u32,
    pub sessions: u32,
    pub providers: u32,
    pub locations: u32,
    pub seconds_per_run: u32,
    pub api: Vec<Measured>,
    pub sql: Vec<Replayed>,
    pub curve: Vec<CurvePoint>,
    /// Availability and booking without (`-resources`) and with (`+resources`) rooms and
    /// devices required, two alternated passes each.
    pub resources: Vec<Measured>,
    /// From a cancellation to its waitlist offers sent.
    pub waitlist: Option<crate::waitlist::Waitlist>,
    /// The booking page's answers: bytes plain and gzipped.
    pub answers: Vec<AnswerSize>,
    /// The booking page's reads without and with a streaming standby.
    pub standby: Vec<crate::standby::StandbyRun>,
    /// Where booking's and availability's time goes.
    pub profile: Vec<crate::profile::Split>,
}

/// The size of one answer.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerSize {
    pub what: String,
    pub bytes: usize,
    pub gzip_bytes: usize,
}

impl Report {
    pub fn new(
        scale: crate::seed::Scale,
        patients: u32,
        sessions: u32,
        seconds_per_run: u32,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            machine: format!("{cores} cores, {}", memory()),
            patients,
            sessions,
            providers: scale.providers,
            locations: scale.locations,
            seconds_per_run,
            api: Vec::new(),
            sql: Vec::new(),
            curve: Vec::new(),
            resources: Vec::new(),
            waitlist: None,
            answers: Vec::new(),
            standby: Vec::new(),
            profile: Vec::new(),
        }
    }

    /// Writes `<out>/<date>.json` and `<out>/<date>.md`, and prints the Markdown.
    pub fn write(&self, out: &Path) -> Result<(), String> {
        std::fs::create_dir_all(out)
            .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        let markdown = self.markdown();
        for (ext, text) in [("json", json), ("md", markdown.clone())] {
            let path = out.join(format!("{}.{ext}", self.date));
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        println!("{markdown}");
        Ok(())
    }

    fn markdown(&self) -> String {
        let mut md = format!(
            "# prolo-scheduler benchmark, {}\n\n{}; {} providers at {} locations, {} patients, {} \
             past sessions; {} s per run; load from wrk on the same machine.\n\n",
            self.date,
            self.machine,
            self.providers,
            self.locations,
            self.patients,
            self.sessions,
            self.seconds_per_run
        );
        md.push_str(
            "## Workloads\n\n| workload | conc. | req/s | p50 ms | p99 ms | answers | errors | peak RSS MB | CPU s / 1k req |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for m in &self.api {
            let answers: Vec<String> = m
                .statuses
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {:.1} | {:.3} |",
                m.workload,
                m.concurrency,
                m.requests_per_second,
                m.p50_ms,
                m.p99_ms,
                answers.join(", "),
                m.errors,
                m.peak_rss_mb,
                m.cpu_seconds_per_1000
            );
        }
        md.push_str(
            "\n## Against the database's own limit\n\nThe SQL the service sent for one request \
             (own SQL), captured from PostgreSQL's statement log, and the least SQL that does the \
             same job with the same checks (minimal: one function call for a booking, one \
             statement for a search), each replayed by pgbench (prepared, same concurrency, same \
             database, same run).\n\n\
             | workload | conc. | API req/s | own SQL tx/s | api / own-sql | minimal tx/s | api / minimal | API p99 ms | own SQL p99 ms | minimal p99 ms | SQL failed |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for sql in self.sql.iter().filter(|s| !s.workload.ends_with(MINIMAL)) {
            let Some(api) = self
                .api
                .iter()
                .find(|m| m.workload == sql.workload && m.concurrency == sql.concurrency)
            else {
                continue;
            };
            let least = self.sql.iter().find(|m| {
                m.workload == format!("{}{MINIMAL}", sql.workload)
                    && m.concurrency == sql.concurrency
            });
            let ratio = |tps: f64| api.requests_per_second / tps.max(f64::EPSILON);
            let (least_tps, least_ratio, least_p99, least_failed) = least.map_or(
                ("–".to_owned(), "–".to_owned(), "–".to_owned(), 0),
                |m| {
                    (
                        format!("{:.0}", m.transactions_per_second),
                        format!("{:.2}", ratio(m.transactions_per_second)),
                        format!("{:.2}", m.p99_ms),
                        m.failed,
                    )
                },
            );
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.0} | {:.2} | {least_tps} | {least_ratio} | {:.2} | {:.2} | {least_p99} | {} |",
                sql.workload,
                sql.concurrency,
                api.requests_per_second,
                sql.transactions_per_second,
                ratio(sql.transactions_per_second),
                api.p99_ms,
                sql.p99_ms,
                sql.failed + least_failed
            );
        }
        md.push_str(
            "\n## Rooms and devices\n\nAvailability and booking without and with every assessment \
             needing a procedure room and the ultrasound (two rooms and one ultrasound per \
             location, the ultrasound about 40 % busy), alternated over two passes in the same \
             run; the figures are the passes' means. Cost: req/s without / with, and p99 with / \
             without (target ≤ 1.25).\n\n\
             | workload | conc. | req/s without | req/s with | cost (req/s) | p99 ms without | p99 ms with | cost (p99) | errors with |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        let mean = |name: &str, concurrency: u32| {
            let runs: Vec<&Measured> = self
                .resources
                .iter()
                .filter(|m| m.workload == name && m.concurrency == concurrency)
                .collect();
            let n = runs.len().max(1) as f64;
            (
                runs.iter().map(|m| m.requests_per_second).sum::<f64>() / n,
                runs.iter().map(|m| m.p99_ms).sum::<f64>() / n,
                runs.iter().map(|m| m.errors).sum::<u64>(),
            )
        };
        let mut pairs: Vec<(String, u32)> = self
            .resources
            .iter()
            .filter_map(|m| {
                Some((
                    m.workload.strip_suffix("+resources")?.to_owned(),
                    m.concurrency,
                ))
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        for (name, concurrency) in pairs {
            let (rps_without, p99_without, _) = mean(&format!("{name}-resources"), concurrency);
            let (rps_with, p99_with, errors) = mean(&format!("{name}+resources"), concurrency);
            let _ = writeln!(
                md,
                "| {name} | {concurrency} | {rps_without:.0} | {rps_with:.0} | {:.2} | {p99_without:.2} | {p99_with:.2} | {:.2} | {errors} |",
                rps_without / rps_with.max(f64::EPSILON),
                p99_with / p99_without.max(f64::EPSILON),
            );
        }
        if let Some(w) = &self.waitlist {
            let _ = write!(
                md,
                "\n## Waitlist\n\n{} patients waiting; {} upcoming sessions cancelled a tenth of a \
                 second apart through the API; the workers' default 1 s rounds, no debounce (the \
                 clinic's default adds 2 minutes). From each cancellation's answer to the last of \
                 its offers accepted by the mailer (sent), and to the offers written (made):\n\n\
                 | cancellations | offered | offers | made p50 ms | made p99 ms | sent p50 ms | sent p99 ms | sent max ms |\n\
                 | --- | --- | --- | --- | --- | --- | --- | --- |\n\
                 | {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |\n",
                w.waiting,
                w.cancellations,
                w.cancellations,
                w.offered,
                w.offers,
                w.offered_p50_ms,
                w.offered_p99_ms,
                w.p50_ms,
                w.p99_ms,
                w.max_ms
            );
        }
        if !self.profile.is_empty() {
            md.push_str(
                "\n## Where the time goes\n\nPer request: wall time (concurrency / throughput), \
                 the service's CPU, PostgreSQL's CPU (all its processes), and at one client the \
                 rest: the wire and wake-ups.\n\n\
                 | workload | conc. | req/s | wall ms | service CPU ms | PostgreSQL CPU ms | rest ms |\n\
                 | --- | --- | --- | --- | --- | --- | --- |\n",
            );
            for s in &self.profile {
                let rest = match s.concurrency {
                    1 => format!("{:.3}", s.rest_ms),
                    _ => "–".to_owned(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {rest} |",
                    s.workload,
                    s.concurrency,
                    s.requests_per_second,
                    s.wall_ms,
                    s.service_cpu_ms,
                    s.postgres_cpu_ms
                );
            }
        }
        if !self.standby.is_empty() {
            md.push_str(
                "\n## Reads on a standby\n\nThe booking page's reads through a service on the \
                 primary alone, then through one sending them to a streaming standby on the same \
                 machine (fenced: each read first asks the primary for its position), alternated. \
                 CPU: milliseconds per request spent by each PostgreSQL server.\n\n\
                 | workload | conc. | req/s without | req/s with | p99 ms without | p99 ms with | primary CPU ms without | primary CPU ms with | standby CPU ms with | errors with |\n\
                 | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
            );
            for run in &self.standby {
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {:.3} | {:.3} | {:.3} | {} |",
                    run.without.workload,
                    run.without.concurrency,
                    run.without.requests_per_second,
                    run.with.requests_per_second,
                    run.without.p99_ms,
                    run.with.p99_ms,
                    run.primary_cpu_ms,
                    run.primary_cpu_ms_with,
                    run.standby_cpu_ms_with,
                    run.with.errors
                );
            }
        }
        if !self.answers.is_empty() {
            md.push_str(
                "\n## Answer sizes\n\nOne answer each, as sent plainly and gzipped (the client asked for it).\n\n\
                 | answer | bytes | gzip bytes | gzip KB |\n| --- | --- | --- | --- |\n",
            );
            for a in &self.answers {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {:.1} |",
                    a.what,
                    a.bytes,
                    a.gzip_bytes,
                    a.gzip_bytes as f64 / 1024.0
                );
            }
        }
        md.push_str(
            "\n## Scale curve\n\n| past sessions | workload | conc. | req/s | p50 ms | p99 ms | errors |\n\
             | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for point in &self.curve {
            let m = &point.measured;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} |",
                point.sessions,
                m.workload,
                m.concurrency,
                m.requests_per_second,
                m.p50_ms,
                m.p99_ms,
                m.errors
            );
        }
        md
    }
}

fn memory() -> String {
    memory_mb().map_or_else(
        || "memory unknown".to_owned(),
        |mb| format!("{:.0} GiB", mb / 1024.0),
    )
}

/// The machine's memory, in MiB.
pub fn memory_mb() -> Option<f64> {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
        })
}
