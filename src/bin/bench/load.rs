//! Load from wrk: each workload is a list of requests, and wrk's Lua picks one at random for
//! every call, counting answers by status; the service's CPU time and peak memory come from
//! `/proc`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde::Serialize;

/// One request a workload may send.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
}

/// A named set of calls.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: &'static str,
    pub calls: Vec<Call>,
    /// Whether answers are told apart by status (201 from 409). Otherwise wrk only counts
    /// non-2xx answers, and spares itself handing every body to Lua.
    pub by_status: bool,
}

/// What one run of a workload measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub workload: String,
    pub concurrency: u32,
    pub requests: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<String, u64>,
    /// Answers that are neither 2xx nor an expected 409 conflict, plus socket errors.
    pub errors: u64,
    /// The service's peak resident memory during the run.
    pub peak_rss_mb: f64,
    /// The service's CPU seconds (user + system) per 1,000 requests.
    pub cpu_seconds_per_1000: f64,
}

/// The service process, observed through `/proc`.
pub struct Service {
    pub pid: u32,
    pub addr: SocketAddr,
}

/// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces): the parent
/// is the 2nd, utime the 12th, stime the 13th, the waited-for children's the 14th and 15th.
fn stat_fields(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after.split_whitespace().map(str::to_owned).collect()
}

/// CPU seconds (user + system) `pid` has used, with those of its exited children when asked.
pub fn cpu_seconds(pid: u32, with_exited_children: bool) -> f64 {
    let fields = stat_fields(pid);
    let used: &[usize] = if with_exited_children {
        &[11, 12, 13, 14]
    } else {
        &[11, 12]
    };
    let ticks: f64 = used
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<f64>().ok()))
        .sum();
    ticks / clock_ticks_per_second()
}

/// CPU seconds a PostgreSQL server has used: its postmaster, its live processes (backends,
/// walsender, startup) and those that have exited.
pub fn server_cpu_seconds(postmaster: u32) -> f64 {
    let children = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            stat_fields(pid)
                .get(1)
                .is_some_and(|parent| *parent == postmaster.to_string())
        });
    cpu_seconds(postmaster, true) + children.map(|pid| cpu_seconds(pid, false)).sum::<f64>()
}

/// The pid of the postmaster serving `pgdata`.
pub fn postmaster(pgdata: &Path) -> Result<u32, String> {
    let pid_file = pgdata.join("postmaster.pid");
    std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse().ok())
        .ok_or_else(|| format!("no server pid in {}", pid_file.display()))
}

impl Service {
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid, false)
    }

    /// Resets the peak-RSS mark, so the next reading is the peak of what follows.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    fn peak_rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Runs `workload` against `service` with `concurrency` connections for `seconds`.
pub fn run(
    service: &Service,
    workload: &Workload,
    key: &str,
    concurrency: u32,
    seconds: u32,
    dir: &Path,
) -> Result<Measured, String> {
    let script = dir.join(format!("{}.lua", workload.name));
    std::fs::write(&script, lua(workload, key)).map_err(|e| format!("cannot write script: {e}"))?;
    service.reset_peak();
    let cpu_before = service.cpu_seconds();
    let output = Command::new("wrk")
        .args([
            "-t",
            &concurrency.min(2).to_string(),
            "-c",
            &concurrency.to_string(),
        ])
        .args(["-d", &format!("{seconds}s"), "--timeout", "10s", "-s"])
        .arg(&script)
        .arg(format!("http://{}", service.addr))
        .output()
        .map_err(|e| format!("cannot run wrk (install it: apt-get install wrk): {e}"))?;
    let cpu = service.cpu_seconds() - cpu_before;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BENCH "))
        .ok_or_else(|| {
            format!(
                "wrk gave no result for {}: {stdout}{}",
                workload.name,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let result: WrkResult =
        serde_json::from_str(line).map_err(|e| format!("cannot read wrk's result: {e}"))?;
    let seconds = result.duration_us as f64 / 1e6;
    let unexpected: u64 = result
        .statuses
        .iter()
        .filter(|(status, _)| !(status.starts_with('2') || status.as_str() == "409"))
        .map(|(_, n)| n)
        .sum();
    Ok(Measured {
        workload: workload.name.to_owned(),
        concurrency,
        requests: result.requests,
        requests_per_second: result.requests as f64 / seconds,
        p50_ms: result.p50_us as f64 / 1000.0,
        p99_ms: result.p99_us as f64 / 1000.0,
        statuses: result.statuses,
        errors: unexpected + result.socket_errors,
        peak_rss_mb: service.peak_rss_mb(),
        cpu_seconds_per_1000: cpu / (result.requests.max(1) as f64) * 1000.0,
    })
}

#[derive(Debug, serde::Deserialize)]
struct WrkResult {
    requests: u64,
    duration_us: u64,
    p50_us: u64,
    p99_us: u64,
    socket_errors: u64,
    statuses: BTreeMap<String, u64>,
}

/// The wrk script: the calls as a Lua table, a random pick per request, answers counted by
/// status in each thread and summed at the end as one `BENCH {json}` line.
fn lua(workload: &Workload, key: &str) -> String {
    let response = if workload.by_status {
        "function response(status, headers, body)\n  counts[status] = (counts[status] or 0) + 1\nend\n"
    } else {
        ""
    };
    let mut calls = String::new();
    for call in &workload.calls {
        let body = call
            .body
            .as_deref()
            .map_or("nil".to_owned(), |b| format!("[==[{b}]==]"));
        let _ = writeln!(
            calls,
            "  {{\"{}\", [==[{}]==], {body}}},",
            call.method, call.path
        );
    }
    format!(
        r#"local calls = {{
{calls}}}
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
local threads = {{}}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("id", started)
  table.insert(threads, thread)
end
function init(args)
  counts = {{}}
  math.randomseed(os.time() * 1000 + id)
end
function request()
  local call = calls[math.random(#calls)]
  return wrk.format(call[1], call[2], nil, call[3])
end
{response}function done(summary, latency, _)
  local merged = {{}}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local parts = {{}}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  if #threads > 0 and next(merged) == nil then
    table.insert(parts, string.format('"2xx":%d', summary.requests - e.status))
    if e.status > 0 then table.insert(parts, string.format('"non-2xx":%d', e.status)) end
  end
  io.write(string.format(
    'BENCH {{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"statuses":{{%s}}}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
"#
    )
}

/// The service under test, stopped when dropped.
pub struct Running {
    child: Child,
    pub service: Service,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The service; with `workers`, its waitlist and notification workers run (mail to files).
pub fn start_service(
    binary: &std::path::Path,
    url: &str,
    scratch: &std::path::Path,
    workers: bool,
    env: &[(&str, &str)],
) -> Result<Running, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let name = match (workers, env.is_empty()) {
        (true, _) => "service-workers.log",
        (false, true) => "service.log",
        (false, false) => "service-configured.log",
    };
    let log = std::fs::File::create(scratch.join(name))
        .map_err(|e| format!("cannot create the service log: {e}"))?;
    let mut command = Command::new(binary);
    if !workers {
        // The API's own figures, comparable run to run: the background workers (which would
        // plan a message, fan out, or offer each event) are measured on their own, and their
        // statements stay out of the SQL captured for the replay.
        command
            .env("PROLO_NO_NOTIFICATIONS", "true")
            .env("PROLO_NO_WEBHOOKS", "true")
            .env("PROLO_NO_WAITLIST", "true");
    }
    let child = command
        .arg("serve")
        .env("PROLO_DATA_DIR", scratch.join("data"))
        .env("DATABASE_URL", url)
        .env("PROLO_BIND", addr.to_string())
        .env("PROLO_RATE_LIMIT_PUBLIC", "0")
        .env("PROLO_RATE_LIMIT_KEY", "0")
        .env("PROLO_NO_WEBHOOKS", "true")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {}: {e} (build it: cargo build --release)",
                binary.display()
            )
        })?;
    let running = Running {
        service: Service {
            pid: child.id(),
            addr,
        },
        child,
    };
    crate::http::wait_ready(addr, 300)?;
    Ok(running)
}
