//! Writing a message: the session (or course) as it is now, in its location's zone, the
//! treatment area's advice, the calendar invites, the unsubscribe link.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;

use super::Outbox;
use super::render::{CourseLines, MessageContext, SessionLines, render};
use crate::app::online::manage;
use crate::app::waitlist::accept;
use crate::domain::access::generate_link_token;
use crate::domain::courses::Side;
use crate::domain::invite::{Invite, Method};
use crate::domain::notifications::{Letter, NotificationKind};
use crate::domain::sessions::{SessionKind, SessionStatus};
use crate::error::AppError;
use crate::models::notifications::{self as model, Notification};
use crate::models::patients::Patient;
use crate::models::sessions::{self as sessions_model, Session};
use crate::models::settings::ClinicSettings;
use crate::models::{courses, manage_tokens, waitlist, waitlist_offers};
use crate::models::{locations, providers, treatment_areas};

/// What a session message is about, read at the moment of sending.
pub struct Place {
    pub zone: Tz,
    pub location: locations::Location,
    pub provider: providers::ProviderRow,
    pub area: treatment_areas::TreatmentArea,
}

/// The location, provider and area of a session or course.
pub async fn place_of(
    conn: &mut AsyncPgConnection,
    location_id: uuid::Uuid,
    provider_id: uuid::Uuid,
    area_id: uuid::Uuid,
) -> Result<Place, AppError> {
    let missing =
        |what: &str| AppError::Internal(format!("the {what} of a notification is gone").into());
    let location = locations::find(conn, location_id)
        .await?
        .ok_or_else(|| missing("location"))?;
    let provider = providers::find(conn, provider_id)
        .await?
        .ok_or_else(|| missing("provider"))?;
    let area = treatment_areas::find(conn, area_id)
        .await?
        .ok_or_else(|| missing("treatment area"))?;
    Ok(Place {
        zone: location.time_zone.parse().unwrap_or(chrono_tz::UTC),
        location,
        provider: provider.row,
        area,
    })
}

/// "Wednesday 6 January 2027, 10:00 (Europe/London, GMT)".
pub fn local_when(at: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    format!(
        "{} ({}, {})",
        local.format("%A %-d %B %Y, %H:%M"),
        zone.name(),
        local.format("%Z")
    )
}

pub fn kind_label(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Assessment => "Assessment",
        SessionKind::Injection => "Injection",
        SessionKind::FollowUp => "Follow-up",
    }
}

pub fn provider_label(provider: &providers::ProviderRow) -> String {
    match &provider.credentials {
        Some(credentials) => format!("{}, {credentials}", provider.name),
        None => provider.name.clone(),
    }
}

fn area_label(area: &str, side: Option<Side>) -> String {
    match side {
        Some(side @ (Side::Left | Side::Right | Side::Bilateral)) => {
            format!("{area} ({})", side.as_str())
        }
        _ => area.to_owned(),
    }
}

fn session_lines(session: &Session, place: &Place, side: Option<Side>) -> SessionLines {
    SessionLines {
        number: session.course_number,
        what: format!(
            "{} — {}",
            kind_label(session.kind),
            area_label(&place.area.name, side)
        ),
        when: local_when(session.starts_at, place.zone),
        minutes: (session.ends_at - session.starts_at).num_minutes(),
        location: place.location.name.clone(),
        address: place.location.address.clone(),
        provider: provider_label(&place.provider),
    }
}

/// The subject: what and when, never the treatment area (a subject line shows on a lock
/// screen; the body, behind it, says the rest).
fn subject(
    kind: NotificationKind,
    clinic: &str,
    what: SessionKind,
    when: &str,
    count: usize,
) -> String {
    let what = kind_label(what).to_lowercase();
    match kind {
        NotificationKind::BookingConfirmation => {
            format!("Booked: your {what} appointment on {when}")
        }
        NotificationKind::Reminder => format!("Reminder: your {what} appointment on {when}"),
        NotificationKind::Rescheduled => format!("Moved: your {what} appointment is now on {when}"),
        NotificationKind::Cancelled => format!("Cancelled: your {what} appointment on {when}"),
        NotificationKind::CourseBooked => {
            format!("Your course with {clinic}: {count} appointments booked")
        }
        NotificationKind::Aftercare => format!("After your appointment today at {clinic}"),
        NotificationKind::WaitlistOffer => format!("An earlier {what} time is free: {when}"),
    }
}

/// "tomorrow", "in 2 hours", "on Friday".
fn lead(offset_minutes: i32) -> String {
    match offset_minutes {
        m if m < 90 => format!("in {m} minutes"),
        m if m < 36 * 60 => {
            format!("in {} hours", (m + 30) / 60).replace("in 24 hours", "tomorrow")
        }
        m => format!("in {} days", (m + 720) / 1440),
    }
}

/// A new unsubscribe link for `notification`: the token lives only in the message; its hash
/// is stored.
pub async fn new_unsubscribe_url(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    notification: &Notification,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let (token, hash) = generate_link_token().map_err(|e| AppError::Internal(Box::new(e)))?;
    model::add_unsubscribe_token(conn, &hash, notification.patient_id, notification.id, now)
        .await?;
    Ok(format!(
        "{}/v1/unsubscribe/{token}",
        outbox.public_url.trim_end_matches('/')
    ))
}

/// A waitlist offer's lines: the time offered, the session it would move, a new link.
async fn offer_lines(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    notification: &Notification,
    clinic: &str,
    context: &mut MessageContext,
    preview: bool,
) -> Result<(), AppError> {
    let gone = || AppError::Internal("the offer of a notification is gone".into());
    let offer_id = notification.waitlist_offer_id.ok_or_else(gone)?;
    let offer = waitlist_offers::find(conn, offer_id)
        .await?
        .ok_or_else(gone)?;
    let entry = waitlist::find(conn, offer.entry_id)
        .await?
        .ok_or_else(gone)?;
    let place = place_of(
        conn,
        offer.location_id,
        offer.provider_id,
        entry.treatment_area_id,
    )
    .await?;
    let lines = SessionLines {
        number: None,
        what: format!("{} — {}", kind_label(entry.kind), place.area.name),
        when: local_when(offer.starts_at, place.zone),
        minutes: (offer.ends_at - offer.starts_at).num_minutes(),
        location: place.location.name.clone(),
        address: place.location.address.clone(),
        provider: provider_label(&place.provider),
    };
    context.subject = subject(notification.kind, clinic, entry.kind, &lines.when, 1);
    let moving = match entry.session_id {
        Some(session_id) => sessions_model::find(conn, session_id).await?,
        None => None,
    };
    context.previous_when = moving.map(|session| local_when(session.starts_at, place.zone));
    let until = offer.expires_at.with_timezone(&place.zone);
    context.offer_until = Some(format!(
        "{} ({}, {})",
        until.format("%H:%M on %A %-d %B"),
        place.zone.name(),
        until.format("%Z")
    ));
    if !preview {
        let token = accept::issue_token(conn, &offer).await?;
        context.offer_url = Some(accept::link(&outbox.public_url, &token));
    }
    context.session = Some(lines);
    Ok(())
}

/// The invite of `session` as it stands.
async fn invite(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    session: &Session,
    place: &Place,
    clinic: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Result<Invite, AppError> {
    let moves = model::moves_of(conn, session.id).await? as i32;
    let cancelled = session.status == SessionStatus::Cancelled;
    let mut description = format!("With {}", provider_label(&place.provider));
    if let Some(address) = &place.location.address {
        description.push_str(&format!("\n{address}"));
    }
    Ok(Invite {
        method: if cancelled {
            Method::Cancel
        } else {
            Method::Request
        },
        session_id: session.id,
        domain: outbox.domain().to_owned(),
        // A cancellation is one more revision of the event than its last move.
        sequence: moves + i32::from(cancelled),
        starts_at: session.starts_at,
        ends_at: session.ends_at,
        stamp: now,
        summary: format!("{} appointment — {clinic}", kind_label(session.kind)),
        location: match &place.location.address {
            Some(address) => format!("{}, {address}", place.location.name),
            None => place.location.name.clone(),
        },
        description,
        organizer_name: clinic.to_owned(),
        organizer_email: outbox.from_address.clone(),
        attendee_email: to.to_owned(),
    })
}

/// The message for `notification` to `patient` (who has an email address).
pub async fn compose(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    settings: &ClinicSettings,
    notification: &Notification,
    patient: &Patient,
    unsubscribe_url: String,
    now: DateTime<Utc>,
) -> Result<Letter, AppError> {
    let to = patient.email.clone().unwrap_or_default();
    let clinic = settings
        .sender_name
        .clone()
        .unwrap_or_else(|| "the clinic".to_owned());
    let mut context = MessageContext {
        subject: String::new(),
        clinic: clinic.clone(),
        given_name: patient.given_name.clone(),
        session: None,
        course: None,
        previous_when: None,
        lead: notification.offset_minutes.map(lead),
        pre_care: None,
        post_care: None,
        reply_to: settings.reply_to.clone(),
        unsubscribe_url: unsubscribe_url.clone(),
        manage_url: None,
        offer_url: None,
        offer_until: None,
    };
    let mut invites = Vec::new();
    if notification.kind == NotificationKind::WaitlistOffer {
        // A preview (no unsubscribe link) must not replace the token of the link sent.
        let preview = unsubscribe_url.is_empty();
        offer_lines(conn, outbox, notification, &clinic, &mut context, preview).await?;
    } else if let Some(course_id) = notification
        .course_id
        .filter(|_| notification.kind == NotificationKind::CourseBooked)
    {
        let course = courses::find(conn, course_id)
            .await?
            .ok_or_else(|| AppError::Internal("the course of a notification is gone".into()))?;
        let place = place_of(
            conn,
            course.location_id,
            course.provider_id,
            course.treatment_area_id,
        )
        .await?;
        let booked: Vec<Session> = courses::sessions_of(conn, course_id)
            .await?
            .into_iter()
            .filter(|s| s.status.is_upcoming() && s.starts_at > now)
            .collect();
        for session in &booked {
            invites.push(invite(conn, outbox, session, &place, &clinic, &to, now).await?);
        }
        let kind = booked.first().map_or(SessionKind::Injection, |s| s.kind);
        context.subject = subject(notification.kind, &clinic, kind, "", booked.len());
        if booked.iter().any(|s| s.kind == SessionKind::Injection) {
            context.pre_care = place.area.pre_care.clone();
        }
        context.course = Some(CourseLines {
            what: area_label(&place.area.name, Some(course.side)),
            location: place.location.name.clone(),
            address: place.location.address.clone(),
            provider: provider_label(&place.provider),
            sessions: booked
                .iter()
                .map(|s| session_lines(s, &place, Some(course.side)))
                .collect(),
        });
    } else {
        let session_id = notification.session_id.ok_or_else(|| {
            AppError::Internal("a session notification without its session".into())
        })?;
        let session = sessions_model::find(conn, session_id)
            .await?
            .ok_or_else(|| AppError::Internal("the session of a notification is gone".into()))?;
        let side = match session.course_id {
            Some(course_id) => courses::find(conn, course_id).await?.map(|c| c.side),
            None => None,
        };
        let place = place_of(
            conn,
            session.location_id,
            session.provider_id,
            session.treatment_area_id,
        )
        .await?;
        let lines = session_lines(&session, &place, side);
        context.subject = subject(notification.kind, &clinic, session.kind, &lines.when, 1);
        context.previous_when = notification
            .previous_starts_at
            .map(|at| local_when(at, place.zone));
        match notification.kind {
            NotificationKind::Aftercare => context.post_care = place.area.post_care.clone(),
            NotificationKind::Cancelled => {}
            _ if session.kind == SessionKind::Injection => {
                context.pre_care = place.area.pre_care.clone()
            }
            _ => {}
        }
        let upcoming = matches!(
            notification.kind,
            NotificationKind::BookingConfirmation
                | NotificationKind::Reminder
                | NotificationKind::Rescheduled
        );
        // A session booked online is managed online: each such message brings a link of its
        // own (only hashes are kept, so an earlier link cannot be sent again).
        if upcoming && manage_tokens::has_any(conn, session.id).await? {
            let token = manage::issue(conn, session.id, now).await?;
            context.manage_url = Some(manage::link(&outbox.public_url, &token));
        }
        if notification.kind != NotificationKind::Aftercare {
            invites.push(invite(conn, outbox, &session, &place, &clinic, &to, now).await?);
        }
        context.session = Some(lines);
    }
    let (text, html) = render(notification.kind, &context)?;
    Ok(Letter {
        notification_id: notification.id,
        to,
        to_name: format!("{} {}", patient.given_name, patient.family_name),
        sender_name: settings.sender_name.clone(),
        reply_to: settings.reply_to.clone(),
        subject: context.subject,
        text,
        html,
        unsubscribe_url: Some(unsubscribe_url),
        invites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_the_location_zone_with_its_name() {
        let at: DateTime<Utc> = "2027-07-06T09:00:00Z".parse().unwrap();
        assert_eq!(
            local_when(at, chrono_tz::Europe::London),
            "Tuesday 6 July 2027, 10:00 (Europe/London, BST)"
        );
        assert_eq!(
            local_when(at, chrono_tz::America::Denver),
            "Tuesday 6 July 2027, 03:00 (America/Denver, MDT)"
        );
    }

    #[test]
    fn reminder_leads_read_naturally() {
        assert_eq!(lead(1440), "tomorrow");
        assert_eq!(lead(120), "in 2 hours");
        assert_eq!(lead(30), "in 30 minutes");
        assert_eq!(lead(2880), "in 2 days");
    }
}
