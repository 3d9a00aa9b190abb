//! A real SMTP server per test (aiosmtpd, `tests/smtp/server.py`), whose spool the test reads,
//! and the notification worker pointed at it.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mail_parser::MimeHeaders;
use prolo_scheduler::app::notifications::Outbox;
use prolo_scheduler::mail::Mailer;
use prolo_scheduler::worker::notifications::{NotificationWorker, Round};
use tokio::io::AsyncBufReadExt;

use super::TestApp;

/// Installs aiosmtpd once per run (`tests/smtp/install`, a venv under target/).
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    crate::support::venv_python("smtp", &PYTHON)
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub raw: Vec<u8>,
    /// When the server wrote it down (the resilience suite's send rate reads it).
    #[allow(dead_code)]
    pub arrived: std::time::SystemTime,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parsable message")
    }

    /// A header's raw value, trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed()
            .header_raw(name)
            .map(|v| v.trim().replace("\r\n", ""))
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        self.parsed().body_text(0).unwrap_or_default().into_owned()
    }

    pub fn html(&self) -> String {
        self.parsed().body_html(0).unwrap_or_default().into_owned()
    }

    /// The calendar attachments, as text, with their content types.
    pub fn invites(&self) -> Vec<(String, String)> {
        let message = self.parsed();
        message
            .attachments()
            .filter_map(|part| {
                let content_type = part.content_type()?;
                let full = format!(
                    "{}/{}; method={}",
                    content_type.ctype(),
                    content_type.subtype().unwrap_or_default(),
                    content_type.attribute("method").unwrap_or_default()
                );
                (content_type.ctype() == "text" && content_type.subtype() == Some("calendar"))
                    .then(|| (full, String::from_utf8_lossy(part.contents()).into_owned()))
            })
            .collect()
    }
}

pub struct SmtpServer {
    child: tokio::process::Child,
    pub port: u16,
    spool: PathBuf,
}

impl SmtpServer {
    pub async fn start() -> Self {
        Self::launch(None).await
    }

    /// A server that requires `AUTH` with these credentials.
    pub async fn with_auth(user: &str, password: &str) -> Self {
        Self::launch(Some(format!("{user}:{password}"))).await
    }

    async fn launch(auth: Option<String>) -> Self {
        let python = python().clone();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let spool = std::env::temp_dir().join(format!(
            "prolo-smtp-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&spool);
        std::fs::create_dir_all(&spool).unwrap();
        let mut command = tokio::process::Command::new(python);
        command
            .arg("-W")
            .arg("ignore")
            .arg(crate::support::root().join("tests/smtp/server.py"))
            .arg("--spool")
            .arg(&spool)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some(auth) = auth {
            command.arg("--auth").arg(auth);
        }
        let mut child = command.spawn().expect("cannot start the SMTP server");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the SMTP server did not start")
        .unwrap();
        let port = line
            .trim()
            .parse()
            .expect("the SMTP server prints its port");
        Self { child, port, spool }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far, in the order it arrived.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.spool)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|meta| {
                let envelope: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
                Received {
                    rcpt_tos: envelope["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect(),
                    raw: std::fs::read(meta.with_extension("eml")).unwrap(),
                    arrived: std::fs::metadata(&meta).unwrap().modified().unwrap(),
                }
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.spool);
    }
}

/// The notification worker over the app's database and clock, sending through `smtp_url`
/// (or to files under `data_dir` without one).
pub fn worker(
    app: &TestApp,
    smtp_url: Option<&str>,
    data_dir: &std::path::Path,
) -> NotificationWorker {
    let options = prolo_scheduler::config::PoolOptions {
        max_size: 4,
        timeout: Duration::from_secs(5),
    };
    NotificationWorker {
        pool: prolo_scheduler::db::pool(&app.db.url, options).unwrap(),
        clock: app.clock.clone() as Arc<dyn prolo_scheduler::clock::Clock>,
        mailer: Mailer::new(smtp_url, "desk@clinic.example", data_dir).unwrap(),
        outbox: Outbox {
            from_address: "desk@clinic.example".into(),
            public_url: "http://clinic.example".into(),
        },
        batch: 50,
        concurrency: 4,
    }
}

/// One round of `worker`, which must succeed.
pub async fn round(worker: &NotificationWorker) -> Round {
    worker.round().await.expect("the round succeeds")
}
