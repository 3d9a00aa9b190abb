//! Two real replicas deliver notifications to a real SMTP server: every message once, however
//! the rows fall between them; the figure is the pair's send rate.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{Datelike, Duration as Days, NaiveDate, Weekday};

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::{clinic, new_patient};
use crate::support::smtp::SmtpServer;
use crate::{number, serially};

/// `n` follow-up starts (20 minutes each, back to back, 08:00–17:00 Denver), weekdays from
/// Tuesday 5 January 2027.
fn starts(n: usize) -> Vec<String> {
    let mut day = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
    let mut starts = Vec::new();
    while starts.len() < n {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            for slot in 0..27 {
                let minutes = 8 * 60 + slot * 20;
                starts.push(format!(
                    "{day}T{:02}:{:02}:00-07:00",
                    minutes / 60,
                    minutes % 60
                ));
            }
        }
        day += Days::days(1);
    }
    starts.truncate(n);
    starts
}

#[actix_web::test]
async fn two_replicas_send_every_confirmation_once() {
    let _serial = serially().await;
    const SESSIONS: usize = 300;
    let app = TestApp::new().await;
    let mut c = clinic(&app).await;
    for (n, starts_at) in starts(SESSIONS).into_iter().enumerate() {
        c.patient = new_patient(&app, &format!("patient{n}@example.com")).await;
        app.post("/v1/sessions", c.booking("follow_up", &starts_at))
            .await
            .expect(201);
    }
    let smtp = SmtpServer::start().await;
    let data = std::env::temp_dir().join(format!("prolo-replicas-mail-{}", std::process::id()));
    let url = smtp.url();
    let env = [
        ("PROLO_NO_NOTIFICATIONS", "false"),
        ("PROLO_SMTP_URL", url.as_str()),
        ("PROLO_MAIL_FROM", "desk@clinic.example"),
        ("PROLO_NOTIFICATIONS_POLL_MS", "50"),
        ("PROLO_DATA_DIR", data.to_str().unwrap()),
    ];
    // The replicas' cursor starts at the log's head when the schema was made, so every
    // booking above is theirs to notify.
    let started = Instant::now();
    let replicas = [
        Replica::start(&app.db.url, &env).await,
        Replica::start(&app.db.url, &env).await,
    ];
    let deadline = started + Duration::from_secs(120);
    while smtp.received().len() < SESSIONS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    // A little longer, for a second copy to show up if either replica were to send one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = smtp.received();
    assert_eq!(received.len(), SESSIONS, "every confirmation, once");
    let ids: HashSet<String> = received
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), SESSIONS, "no Message-ID twice");
    let recipients: HashSet<&String> = received.iter().flat_map(|m| &m.rcpt_tos).collect();
    assert_eq!(recipients.len(), SESSIONS);
    // Both replicas delivered: the log says how many each sent.
    let busy = replicas
        .iter()
        .filter(|r| {
            r.log()
                .iter()
                .any(|l| l.contains("notifications delivered"))
        })
        .count();
    let sent = number(
        &app.db.url,
        "SELECT count(*) AS n FROM notifications WHERE kind = 'booking_confirmation' AND status = 'sent'",
    )
    .await;
    assert_eq!(sent, SESSIONS as i64);
    let _ = std::fs::remove_dir_all(&data);
    // The steady rate: from the first message's arrival to the last's.
    let first = received.iter().map(|m| m.arrived).min().unwrap();
    let last = received.iter().map(|m| m.arrived).max().unwrap();
    let steady = last
        .duration_since(first)
        .unwrap_or_default()
        .as_secs_f64()
        .max(0.001);
    println!(
        "notifications: {SESSIONS} confirmations by 2 replicas to a local SMTP server, \
         {:.0} messages/s from the first to the last ({:.1} s from the replicas' start), \
         {busy} of 2 replicas sending, none twice",
        (SESSIONS - 1) as f64 / steady,
        elapsed.as_secs_f64(),
    );
}
