//! A real HTTP receiver of webhooks per test (`tests/webhooks/receiver.py`), which checks every
//! delivery with the Standard Webhooks reference verifier, and the webhook worker pointed at the
//! app's database.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prolo_scheduler::clock::{Clock, SystemClock};
use prolo_scheduler::webhook::Sender;
use prolo_scheduler::worker::webhooks::{Round, WebhookWorker};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use super::TestApp;

/// Installs the reference verifier once per run (`tests/webhooks/install`).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    crate::support::venv_python("webhooks", &PYTHON)
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub path: String,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: Value,
    pub body: String,
    pub content_type: Option<String>,
    /// Which of the secrets given for its name verified it (indexes in the order given).
    pub verified: Vec<u64>,
}

impl Delivered {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers[name].as_str().unwrap_or_default()
    }
}

pub struct Receiver {
    child: tokio::process::Child,
    pub port: u16,
    spool: PathBuf,
}

impl Receiver {
    pub async fn start() -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let spool = std::env::temp_dir().join(format!(
            "prolo-hooks-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&spool);
        std::fs::create_dir_all(&spool).unwrap();
        let mut child = tokio::process::Command::new(python())
            .arg(crate::support::root().join("tests/webhooks/receiver.py"))
            .arg("--spool")
            .arg(&spool)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start the webhook receiver");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the receiver did not start")
        .unwrap();
        let port = line.trim().parse().expect("the receiver prints its port");
        Self { child, port, spool }
    }

    /// The URL of the receiver's mailbox `name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Verifies what comes to `name` with these secrets (`whsec_…`).
    pub fn trust(&self, name: &str, secrets: &[&str]) {
        std::fs::write(
            self.spool.join(format!("secret-{name}")),
            secrets.join("\n"),
        )
        .unwrap();
    }

    /// How `name` answers from now on: a status code, `flaky`, `slow:S` or `redirect`.
    pub fn answer(&self, name: &str, answer: &str) {
        std::fs::write(self.spool.join(format!("answer-{name}")), answer).unwrap();
    }

    /// Every request so far, in the order they came.
    pub fn received(&self) -> Vec<Delivered> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.spool)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|path| {
                let record: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
                Delivered {
                    path: record["path"].as_str().unwrap().to_owned(),
                    headers: record["headers"].clone(),
                    body: record["body"].as_str().unwrap().to_owned(),
                    content_type: record["content_type"].as_str().map(str::to_owned),
                    verified: record["verified"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_u64().unwrap())
                        .collect(),
                }
            })
            .collect()
    }

    /// What came to `name`.
    pub fn received_by(&self, name: &str) -> Vec<Delivered> {
        let prefix = format!("/{name}");
        self.received()
            .into_iter()
            .filter(|d| d.path == prefix || d.path.starts_with(&format!("{prefix}/")))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.spool);
    }
}

/// The webhook worker over the app's database and clock; `allow_private` as
/// `PROLO_WEBHOOK_ALLOW_PRIVATE` (the receiver is on loopback).
pub fn webhook_worker(app: &TestApp, allow_private: bool) -> WebhookWorker {
    let options = prolo_scheduler::config::PoolOptions {
        max_size: 4,
        timeout: Duration::from_secs(5),
    };
    WebhookWorker {
        pool: prolo_scheduler::db::pool(&app.db.url, options).unwrap(),
        clock: app.clock.clone() as Arc<dyn Clock>,
        wall_clock: Arc::new(SystemClock),
        sender: Sender::new(allow_private).unwrap(),
        lease: prolo_scheduler::app::webhooks::deliver::LEASE,
        batch: 50,
        concurrency: 4,
    }
}

/// One round of `worker`, which must succeed.
pub async fn hook_round(worker: &WebhookWorker) -> Round {
    worker.round().await.expect("the round succeeds")
}
