//! The mail transport: a [`Letter`] as a MIME message (text and HTML, a calendar invite per
//! session, RFC 8058 unsubscribe headers, a `Message-ID` fixed by its notification), sent over
//! SMTP with lettre, or written as an `.eml` file when no SMTP server is configured.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::notifications::{Letter, SendFailure};

/// Where messages go.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `<notification id>.eml` per message in this directory.
    Files(PathBuf),
}

/// Sends letters from one address.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: lettre::Address,
    /// Where the messages go, for the start-up line (no credentials).
    pub destination: String,
}

/// How long one SMTP exchange may take: well inside a claim's lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    /// SMTP at `smtp_url` (`smtp://`, `smtps://`, `?tls=required` for STARTTLS, credentials in
    /// the URL), or files under `<data_dir>/mail/` without one.
    pub fn new(smtp_url: Option<&str>, from: &str, data_dir: &Path) -> Result<Self, String> {
        let from: lettre::Address = from
            .parse()
            .map_err(|e| format!("PROLO_MAIL_FROM `{from}` is not an email address: {e}"))?;
        let (transport, destination) = match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("PROLO_SMTP_URL is not a usable SMTP URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                (Transport::Smtp(transport), redacted(url))
            }
            None => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let shown = format!("{}/", dir.display());
                (Transport::Files(dir), shown)
            }
        };
        Ok(Self {
            transport,
            from,
            destination,
        })
    }

    /// Whether messages are written to files rather than sent.
    pub fn writes_files(&self) -> bool {
        matches!(self.transport, Transport::Files(_))
    }

    /// Sends `letter`. A refused address or message is permanent; a 4xx reply, a connection
    /// or TLS failure, a timeout are transient.
    pub async fn send(&self, letter: &Letter) -> Result<(), SendFailure> {
        let message = self.message(letter)?;
        match &self.transport {
            Transport::Smtp(smtp) => tokio::time::timeout(SMTP_TIMEOUT, smtp.send(message))
                .await
                .map_err(|_| SendFailure::Transient("SMTP: no answer in time".to_owned()))?
                .map(|_| ())
                .map_err(|e| {
                    let code = e.status().map(|c| c.to_string());
                    let text = match code {
                        Some(code) => format!("SMTP {code}: {e}"),
                        None => format!("SMTP: {e}"),
                    };
                    if e.is_permanent() {
                        SendFailure::Permanent(text)
                    } else {
                        SendFailure::Transient(text)
                    }
                }),
            Transport::Files(dir) => write_file(dir, letter, &message.formatted()).await,
        }
    }

    /// The MIME message of `letter`.
    pub fn message(&self, letter: &Letter) -> Result<Message, SendFailure> {
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            SendFailure::Permanent(format!("cannot build the message: {what}: {e}"))
        };
        let to: lettre::Address = letter
            .to
            .parse()
            .map_err(|e| invalid("the patient's address", &e))?;
        let domain = self.from.domain().to_owned();
        let mut builder = Message::builder()
            .from(Mailbox::new(letter.sender_name.clone(), self.from.clone()))
            .to(Mailbox::new(Some(letter.to_name.clone()), to))
            .subject(letter.subject.clone())
            .message_id(Some(format!(
                "<notification-{}@{domain}>",
                letter.notification_id
            )))
            // RFC 3834: nobody's vacation responder should answer a reminder.
            .raw_header(raw("Auto-Submitted", "auto-generated"));
        if let Some(url) = &letter.unsubscribe_url {
            builder = builder
                .raw_header(raw("List-Unsubscribe", format!("<{url}>")))
                .raw_header(raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"));
        }
        if let Some(reply_to) = &letter.reply_to {
            let reply_to: lettre::Address = reply_to
                .parse()
                .map_err(|e| invalid("the reply-to address", &e))?;
            builder = builder.reply_to(Mailbox::new(letter.sender_name.clone(), reply_to));
        }
        let mut body = MultiPart::mixed().multipart(MultiPart::alternative_plain_html(
            letter.text.clone(),
            letter.html.clone(),
        ));
        for invite in &letter.invites {
            let content_type = ContentType::parse(&format!(
                "text/calendar; charset=utf-8; method={}",
                invite.method_name()
            ))
            .map_err(|e| invalid("the invite's content type", &e))?;
            let name = match letter.invites.len() {
                1 => "invite.ics".to_owned(),
                _ => format!("invite-{}.ics", invite.starts_at.format("%Y%m%d-%H%M")),
            };
            body = body.singlepart(Attachment::new(name).body(invite.to_ics(), content_type));
        }
        builder
            .multipart(body)
            .map_err(|e| invalid("the MIME structure", &e))
    }
}

/// Writes the message as `<notification id>.eml` (through a temporary file, so a reader never
/// sees half of one); a second send of the same notification overwrites its file.
async fn write_file(dir: &Path, letter: &Letter, bytes: &[u8]) -> Result<(), SendFailure> {
    let name = format!("{}.eml", letter.notification_id);
    let temporary = dir.join(format!(".{name}.tmp"));
    let failed = |e: std::io::Error| SendFailure::Transient(format!("cannot write {name}: {e}"));
    tokio::fs::write(&temporary, bytes).await.map_err(failed)?;
    tokio::fs::rename(&temporary, dir.join(&name))
        .await
        .map_err(failed)
}

/// The URL without its password, for logs.
fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://…@{}", &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// A header lettre has no type for, its ASCII value written as given.
fn raw(name: &'static str, value: impl Into<String>) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.into())
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn smtp_urls_are_shown_without_credentials() {
        assert_eq!(
            redacted("smtps://user:secret@mail.example:465"),
            "smtps://…@mail.example:465"
        );
        assert_eq!(redacted("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
