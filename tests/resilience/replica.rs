//! Service processes: the real binary, serving a test database on a port of its own, on the
//! test clock (it starts at [`crate::support::TEST_NOW`] and runs on from there).

use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::http::{WireReply, try_request};

/// One `prolo-scheduler serve` process.
pub struct Replica {
    child: Child,
    pub addr: SocketAddr,
    /// Everything the process has logged so far.
    log: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    /// Starts a process serving `database_url` (rate and in-flight limits off) and waits until it listens;
    /// `env` adds or overrides settings.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_prolo-scheduler"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--no-demo"])
            .env("DATABASE_URL", database_url)
            .env("PROLO_CLOCK_START", crate::support::TEST_NOW)
            .env("PROLO_RATE_LIMIT_PUBLIC", "0")
            .env("PROLO_RATE_LIMIT_KEY", "0")
            .env("PROLO_RATE_LIMIT_INQUIRIES", "0")
            .env("PROLO_MAX_IN_FLIGHT", "0")
            .env("PROLO_WORKERS", "2")
            // No mail unless a test asks for it (and names where it goes).
            .env("PROLO_NO_NOTIFICATIONS", "true")
            .env("PROLO_NO_WAITLIST", "true")
            .env("PROLO_LOG_FORMAT", "json")
            .env("RUST_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        Self::spawn(command).await
    }

    /// Starts `command` (a `serve` with its stderr logging) and waits until it listens.
    pub async fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start prolo-scheduler");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = tokio::time::timeout(Duration::from_secs(120), async {
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap().push(line.clone());
                if let Some(addr) = listening_on(&line) {
                    return addr;
                }
            }
            panic!("the service exited: {:?}", log.lock().unwrap());
        })
        .await
        .expect("the service did not start listening");
        // Keep reading, so the process never blocks on a full pipe.
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, addr, log }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id().expect("the process is running") as i32
    }

    /// Sends `signal` (`libc::SIGTERM`, `libc::SIGKILL`, …) to the process.
    pub fn signal(&self, signal: i32) {
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0, "kill failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .map(|status| status.expect("wait failed"))
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends one request (a fresh connection) with `key` as the bearer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        key: Option<&str>,
        extra: &[(&str, &str)],
    ) -> WireReply {
        self.try_send(method, path, body, key, extra)
            .await
            .expect("the request failed on the wire")
    }

    /// [`Replica::send`], with a refused or cut connection as an error.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        key: Option<&str>,
        extra: &[(&str, &str)],
    ) -> std::io::Result<WireReply> {
        let auth = key.map(|key| format!("Bearer {key}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth));
        }
        try_request(self.addr, method, path, body, &headers).await
    }

    /// The process's resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .expect("VmRSS")
    }

    /// Polls `/readyz` until it answers 200.
    pub async fn until_ready(&self, limit: Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            let reply = self.try_send("GET", "/readyz", None, None, &[]).await;
            if reply.is_ok_and(|reply| reply.status == 200) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// The address in the service's "listening on http://…" line.
fn listening_on(line: &str) -> Option<SocketAddr> {
    let rest = line.split_once("listening on http://")?.1;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '(')
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}
