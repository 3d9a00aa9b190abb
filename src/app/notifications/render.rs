//! The messages' words: Jinja templates under `templates/mail/`, compiled into the binary and
//! rendered by minijinja (HTML escaped by the `.html` name), a text and an HTML part per kind.

use std::sync::OnceLock;

use minijinja::Environment;
use serde::Serialize;

use crate::domain::notifications::NotificationKind;
use crate::error::AppError;

macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/mail/", $name)))),+]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "layout.txt",
    "layout.html",
    "session.txt",
    "session.html",
    "prepare.txt",
    "prepare.html",
    "manage.txt",
    "manage.html",
    "booking_confirmation.txt",
    "booking_confirmation.html",
    "reminder.txt",
    "reminder.html",
    "rescheduled.txt",
    "rescheduled.html",
    "cancelled.txt",
    "cancelled.html",
    "course_booked.txt",
    "course_booked.html",
    "aftercare.txt",
    "aftercare.html",
    "code.txt",
    "code.html",
    "waitlist_offer.txt",
    "waitlist_offer.html",
];

fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; the unit test below renders every one.
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// One session as a message shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionLines {
    /// In a course, its number.
    pub number: Option<i32>,
    /// "Injection — Knee (left)".
    pub what: String,
    /// "Wednesday 6 January 2027, 10:00 (Europe/London, GMT)".
    pub when: String,
    pub minutes: i64,
    pub location: String,
    pub address: Option<String>,
    /// "Dr. Sam Ng, MD".
    pub provider: String,
}

/// A course's booked sessions.
#[derive(Debug, Clone, Serialize)]
pub struct CourseLines {
    pub what: String,
    pub location: String,
    pub address: Option<String>,
    pub provider: String,
    pub sessions: Vec<SessionLines>,
}

/// Everything a template may show: no clinical value and no note is ever put here.
#[derive(Debug, Clone, Serialize)]
pub struct MessageContext {
    pub subject: String,
    pub clinic: String,
    pub given_name: String,
    pub session: Option<SessionLines>,
    pub course: Option<CourseLines>,
    /// For a move: when it was.
    pub previous_when: Option<String>,
    /// For a reminder: "tomorrow", "in 2 hours".
    pub lead: Option<String>,
    pub pre_care: Option<String>,
    pub post_care: Option<String>,
    pub reply_to: Option<String>,
    pub unsubscribe_url: String,
    /// For a session booked online: a fresh manage link (cancel or move it).
    pub manage_url: Option<String>,
    /// For a waitlist offer: the link that takes the time, and until when.
    pub offer_url: Option<String>,
    pub offer_until: Option<String>,
}

/// The text and the HTML part of a message of `kind`.
pub fn render(
    kind: NotificationKind,
    context: &MessageContext,
) -> Result<(String, String), AppError> {
    let env = environment();
    let value = minijinja::Value::from(minijinja::value::Serde(context));
    let part = |format: &str| {
        env.get_template(&format!("{}.{format}", kind.as_str()))
            .and_then(|template| template.render(value.clone()))
            .map_err(|e| AppError::Internal(Box::new(e)))
    };
    Ok((part("txt")?, part("html")?))
}

/// What the mail carrying a booking request's code shows.
#[derive(Debug, Clone, Serialize)]
pub struct CodeContext {
    pub subject: String,
    pub clinic: String,
    pub given_name: String,
    pub code: String,
    /// How long the code may be used.
    pub minutes: i64,
    pub what: String,
    pub when: String,
    pub location: String,
}

/// The text and the HTML part of a code's mail.
pub fn render_code(context: &CodeContext) -> Result<(String, String), AppError> {
    let env = environment();
    let value = minijinja::Value::from(minijinja::value::Serde(context));
    let part = |format: &str| {
        env.get_template(&format!("code.{format}"))
            .and_then(|template| template.render(value.clone()))
            .map_err(|e| AppError::Internal(Box::new(e)))
    };
    Ok((part("txt")?, part("html")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> MessageContext {
        let session = SessionLines {
            number: Some(2),
            what: "Injection — Knee (left)".into(),
            when: "Wednesday 6 January 2027, 10:00 (Europe/London, GMT)".into(),
            minutes: 30,
            location: "Main St <Clinic>".into(),
            address: Some("1 Main St".into()),
            provider: "Dr. Sam Ng, MD".into(),
        };
        MessageContext {
            subject: "Booked".into(),
            clinic: "Prolo & Co".into(),
            given_name: "Jordan".into(),
            session: Some(session.clone()),
            course: Some(CourseLines {
                what: "Knee (left)".into(),
                location: "Main St".into(),
                address: None,
                provider: "Dr. Sam Ng".into(),
                sessions: vec![session],
            }),
            previous_when: Some("Tuesday 5 January 2027, 09:00 (Europe/London, GMT)".into()),
            lead: Some("tomorrow".into()),
            pre_care: Some("Stop NSAIDs 3 days before.".into()),
            post_care: Some("Expect soreness for 2-3 days.".into()),
            reply_to: Some("desk@clinic.example".into()),
            unsubscribe_url: "https://clinic.example/v1/unsubscribe/t".into(),
            manage_url: None,
            offer_url: Some("https://clinic.example/book#offer=0ff3r".into()),
            offer_until: Some("10:30 (America/Denver, MST)".into()),
        }
    }

    #[test]
    fn every_kind_renders_both_parts_and_escapes_html() {
        for kind in NotificationKind::ALL {
            let (text, html) = render(*kind, &context()).unwrap();
            assert!(text.starts_with("Hello Jordan,"), "{kind:?}: {text}");
            assert!(
                !text.contains("\n\n\n"),
                "{kind:?} has a double blank line: {text}"
            );
            assert!(text.contains("https://clinic.example/v1/unsubscribe/t"));
            assert!(html.contains("<!DOCTYPE html>"), "{kind:?}");
            assert!(html.contains("Prolo &amp; Co"), "{kind:?}: {html}");
            assert!(
                !html.contains("<Clinic>"),
                "{kind:?} leaves markup unescaped"
            );
        }
        let (text, _) = render(NotificationKind::Reminder, &context()).unwrap();
        assert!(text.contains("When:  Wednesday 6 January 2027, 10:00 (Europe/London, GMT)"));
        assert!(text.contains("Stop NSAIDs 3 days before."));
        // Paragraphs are one blank line apart, with advice or without it.
        assert!(text.contains("With:  Dr. Sam Ng, MD\n\nBefore you come:\nStop NSAIDs 3 days before.\n\nIf you cannot come"), "{text}");
        let mut plain = context();
        plain.pre_care = None;
        plain.reply_to = None;
        let (text, _) = render(NotificationKind::BookingConfirmation, &plain).unwrap();
        assert!(text.contains("With:  Dr. Sam Ng, MD\n\nThe calendar invite attached adds it to your calendar.\n\nQuestions? Reply to this email.\n\nProlo & Co\n"), "{text}");
        assert!(!text.contains("\n\n\n"), "{text}");
        // A session booked online: its link, a paragraph of its own, in both parts.
        let mut online = context();
        online.pre_care = None;
        online.manage_url = Some("https://clinic.example/book#manage=t0k".into());
        let (text, html) = render(NotificationKind::BookingConfirmation, &online).unwrap();
        assert!(text.contains("With:  Dr. Sam Ng, MD\n\nTo cancel or move it online: https://clinic.example/book#manage=t0k\n(The link is yours alone: keep it to yourself.)\n\nThe calendar invite"), "{text}");
        assert!(
            html.contains("manage&#x3d;t0k") || html.contains("manage=t0k"),
            "{html}"
        );
        let (text, _) = render(NotificationKind::Aftercare, &online).unwrap();
        assert!(!text.contains("t0k"), "no link once the session is over");
        let (text, html) = render(NotificationKind::WaitlistOffer, &context()).unwrap();
        assert!(
            text.contains("To take it: https://clinic.example/book#offer=0ff3r"),
            "{text}"
        );
        assert!(text.contains("until 10:30 (America/Denver, MST)"), "{text}");
        assert!(text.contains("now on Tuesday 5 January 2027"), "{text}");
        assert!(
            html.contains("offer&#x3d;0ff3r") || html.contains("offer=0ff3r"),
            "{html}"
        );
        let (text, _) = render(NotificationKind::Aftercare, &context()).unwrap();
        assert!(text.contains("Expect soreness") && !text.contains("Stop NSAIDs"));
    }

    #[test]
    fn the_code_mail_shows_the_code_and_escapes_html() {
        let context = CodeContext {
            subject: "Your code".into(),
            clinic: "Prolo & Co".into(),
            given_name: "Jordan".into(),
            code: "042917".into(),
            minutes: 15,
            what: "Assessment — Knee".into(),
            when: "Monday 11 January 2027, 09:00 (America/Denver, MST)".into(),
            location: "Main St <Clinic>".into(),
        };
        let (text, html) = render_code(&context).unwrap();
        assert!(
            text.contains("\n    042917\n") && text.contains("within 15 minutes"),
            "{text}"
        );
        assert!(html.contains("042917") && html.contains("Prolo &amp; Co"));
        assert!(!html.contains("<Clinic>"));
    }
}
