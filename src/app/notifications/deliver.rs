//! Delivery, the use-case side: claim what is due under a lease, decide for each whether it
//! goes now (and write it), waits, or is dropped, and settle the attempt. The worker sends
//! between `prepare` and `settle`, outside any transaction.
//!
//! At least once, and once in the normal course: a notification is settled `sent` only by the
//! holder of its claim, after the mail server accepted it. A worker that crashes after the
//! server accepted a message and before it settled leaves a claim that lapses; another worker
//! then sends it again — the one way a patient gets a message twice. Both copies carry the
//! same `Message-ID`, so mail systems that deduplicate show one.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::Outbox;
use super::compose::{compose, new_unsubscribe_url};
use crate::domain::notifications::{
    Letter, NotificationKind, SendFailure, SkipReason, retry_after,
};
use crate::error::AppError;
use crate::models::notifications::{self as model, Notification, Settle};
use crate::models::settings;
use crate::models::{courses, patients, sessions, waitlist_offers};

/// How long a claim holds: well beyond a send's timeout, so a live worker never loses one.
pub const LEASE: Duration = Duration::minutes(5);

/// A claimed notification and the token that settles it.
#[derive(Debug, Clone)]
pub struct Claim {
    pub notification: Notification,
    pub token: Uuid,
}

/// Claims up to `limit` due notifications.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Claim>, AppError> {
    let token = Uuid::new_v4();
    let rows = model::claim(conn, token, now, LEASE, limit).await?;
    Ok(rows
        .into_iter()
        .map(|notification| Claim {
            notification,
            token,
        })
        .collect())
}

/// What to do with a claimed notification.
#[derive(Debug)]
pub enum Next {
    /// Send this message, then [`settle_send`].
    Send(Box<Letter>),
    /// Nothing to send: settle with this.
    Settle(Settle),
}

/// Decides and, when it goes now, writes the message (with a fresh unsubscribe link).
pub async fn prepare(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    claim: &Claim,
    now: DateTime<Utc>,
) -> Result<Next, AppError> {
    let notification = &claim.notification;
    let settings = settings::get(conn).await?;
    let Some(patient) = patients::find(conn, notification.patient_id).await? else {
        return Ok(Next::Settle(Settle::Skipped(SkipReason::PatientArchived)));
    };
    let skip = match &patient {
        p if p.archived_at.is_some() => Some(SkipReason::PatientArchived),
        p if p.email.is_none() => Some(SkipReason::NoEmail),
        p if !p.email_notifications => Some(SkipReason::OptedOut),
        _ => None,
    };
    if let Some(reason) = skip {
        return Ok(Next::Settle(Settle::Skipped(reason)));
    }
    if let Some(settle) = superseded(conn, notification, now).await? {
        return Ok(Next::Settle(settle));
    }
    // An offer is made outside quiet hours and lives minutes: it never waits for morning.
    let quiet = settings
        .quiet_hours()
        .filter(|_| notification.kind != NotificationKind::WaitlistOffer);
    if let Some(quiet) = quiet {
        let zone = zone_of(conn, notification).await?;
        let resume = quiet.defer(now, zone);
        if resume > now {
            return Ok(Next::Settle(Settle::Deferred { due_at: resume }));
        }
    }
    let link = new_unsubscribe_url(conn, outbox, notification, now).await?;
    let letter = compose(conn, outbox, &settings, notification, &patient, link, now).await?;
    Ok(Next::Send(Box::new(letter)))
}

/// Whether the session or course moved on so that this message has no point now.
async fn superseded(
    conn: &mut AsyncPgConnection,
    notification: &Notification,
    now: DateTime<Utc>,
) -> Result<Option<Settle>, AppError> {
    use NotificationKind::*;
    match (notification.kind, notification.session_id) {
        (BookingConfirmation | Reminder | Rescheduled, Some(session_id)) => {
            let session = sessions::find(conn, session_id).await?;
            Ok(match session {
                Some(s) if s.status.is_upcoming() && s.starts_at > now => None,
                // Not sent late: the session began or ended before its message could go.
                Some(s) if s.status.is_upcoming() => Some(Settle::Skipped(SkipReason::SessionOver)),
                _ => Some(Settle::Cancelled),
            })
        }
        (WaitlistOffer, _) => {
            let offer_id = notification.waitlist_offer_id.unwrap_or_default();
            let offer = waitlist_offers::find(conn, offer_id).await?;
            Ok((!offer.is_some_and(|o| o.is_open(now))).then_some(Settle::Cancelled))
        }
        (CourseBooked, _) => {
            let course_id = notification.course_id.unwrap_or_default();
            let upcoming = courses::sessions_of(conn, course_id)
                .await?
                .into_iter()
                .any(|s| s.status.is_upcoming() && s.starts_at > now);
            Ok((!upcoming).then_some(Settle::Skipped(SkipReason::SessionOver)))
        }
        _ => Ok(None),
    }
}

/// The zone of the location a notification is about.
async fn zone_of(
    conn: &mut AsyncPgConnection,
    notification: &Notification,
) -> Result<chrono_tz::Tz, AppError> {
    if let Some(offer_id) = notification.waitlist_offer_id {
        let offer = waitlist_offers::find(conn, offer_id).await?;
        return match offer {
            Some(offer) => Ok(crate::app::calendar::zone_of(conn, offer.location_id).await?),
            None => Ok(chrono_tz::UTC),
        };
    }
    let location_id = match (notification.session_id, notification.course_id) {
        (Some(session_id), _) => sessions::find(conn, session_id)
            .await?
            .map(|s| s.location_id),
        (None, Some(course_id)) => courses::find(conn, course_id).await?.map(|c| c.location_id),
        (None, None) => None,
    };
    match location_id {
        Some(id) => Ok(crate::app::calendar::zone_of(conn, id).await?),
        None => Ok(chrono_tz::UTC),
    }
}

/// Settles a send: `sent`, retried with backoff, or `failed` with the server's reason.
/// Returns false when the claim had lapsed and another worker owns the notification now.
pub async fn settle_send(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    subject: String,
    outcome: Result<(), SendFailure>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let outcome = match outcome {
        Ok(()) => Settle::Sent { subject },
        Err(failure @ SendFailure::Transient(_)) => {
            match retry_after(claim.notification.attempts) {
                Some(wait) => Settle::Retry {
                    due_at: now + wait,
                    error: failure.reason(),
                },
                None => Settle::Failed {
                    error: format!(
                        "gave up after {} attempts: {}",
                        claim.notification.attempts,
                        failure.reason()
                    ),
                },
            }
        }
        Err(failure @ SendFailure::Permanent(_)) => Settle::Failed {
            error: failure.reason(),
        },
    };
    settle(conn, claim, outcome, now).await
}

/// Settles a claim without a send.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    outcome: Settle,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    Ok(model::settle(conn, claim.notification.id, claim.token, outcome, now).await?)
}

/// The subject the notification has, or would have if it went now (for the API).
pub async fn subject_of(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    notification: &Notification,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    if let Some(subject) = &notification.subject {
        return Ok(Some(subject.clone()));
    }
    let settings = settings::get(conn).await?;
    let Some(patient) = patients::find(conn, notification.patient_id).await? else {
        return Ok(None);
    };
    // A preview carries no link, so it stores no token.
    let letter = compose(
        conn,
        outbox,
        &settings,
        notification,
        &patient,
        String::new(),
        now,
    )
    .await?;
    Ok(Some(letter.subject))
}
