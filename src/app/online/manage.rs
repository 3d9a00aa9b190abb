//! What a manage link shows and does: the session as the patient may see it, a cancellation,
//! a move to a held slot. A link is a random token whose hash is stored; it dies when the
//! session ends, is cancelled, or moves (the move issues a new one).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::held;
use crate::app::booking::lifecycle::{self, Step};
use crate::app::booking::reschedule::{self, Reschedule};
use crate::app::calendar::SessionView;
use crate::app::caller::{Caller, Expected};
use crate::app::notifications::compose::{Place, place_of};
use crate::app::waitlist;
use crate::domain::access::{generate_link_token, hash_key};
use crate::domain::online::{Allowed, allowed, link_alive};
use crate::domain::sessions::CancelReason;
use crate::domain::waitlist::EntrySource;
use crate::error::{AppError, ProblemType};
use crate::models::sessions::{self as sessions_model, Session};
use crate::models::{manage_tokens, settings};

/// A session as its manage link shows it.
pub struct Managed {
    pub row: Session,
    pub place: Place,
    pub allowed: Allowed,
}

/// The link a patient manages their session with: the booking page at `public_url`, the token
/// in its fragment (a fragment is never sent to a server, so no log or `Referer` carries it).
pub fn link(public_url: &str, token: &str) -> String {
    format!("{}/book#manage={token}", public_url.trim_end_matches('/'))
}

/// Issues a new manage link's token for the session; only its hash is kept.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let (token, hash) = generate_link_token().map_err(|e| AppError::Internal(Box::new(e)))?;
    manage_tokens::insert(conn, &hash, session_id, now).await?;
    Ok(token)
}

/// The session of a live link, locked for a change when `for_update`. An unknown token and a
/// dead link are the same 404: a guess learns nothing.
async fn session_of(
    conn: &mut AsyncPgConnection,
    token: &str,
    for_update: bool,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    let dead = || AppError::NotFound("manage link");
    let session_id = manage_tokens::session_of(conn, &hash_key(token))
        .await?
        .ok_or_else(dead)?;
    let row = match for_update {
        true => sessions_model::find_for_update(conn, session_id).await?,
        false => sessions_model::find(conn, session_id).await?,
    };
    row.filter(|row| link_alive(row.status, row.ends_at, now))
        .ok_or_else(dead)
}

/// What the link shows; it changes nothing.
pub async fn view(
    conn: &mut AsyncPgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Managed, AppError> {
    let row = session_of(conn, token, false, now).await?;
    managed(conn, row, now).await
}

/// 422 `too-late-to-change` unless the session may still be changed online.
async fn in_time(
    conn: &mut AsyncPgConnection,
    row: &Session,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let settings = settings::get(conn).await?;
    if allowed(
        row.status,
        row.starts_at,
        settings.late_cancellation_hours,
        now,
    )
    .cancel
    {
        return Ok(());
    }
    let call = match settings.phone {
        Some(phone) => format!("please call the clinic at {phone}"),
        None => "please call the clinic".to_owned(),
    };
    Err(AppError::Problem(
        ProblemType::TooLateToChange,
        format!(
            "the appointment starts within {} hours, too soon to change online: {call}",
            settings.late_cancellation_hours
        ),
    ))
}

/// Cancels the link's session for `reason`, outside the late-change window.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    token: &str,
    reason: CancelReason,
    now: DateTime<Utc>,
) -> Result<SessionView, AppError> {
    let row = session_of(conn, token, true, now).await?;
    in_time(conn, &row, now).await?;
    let step = Step::Cancel { reason, note: None };
    lifecycle::change_status(conn, caller, row.id, Expected::Any, step, now).await
}

/// Moves the link's session to the slot of a hold (same provider, place and kind), outside
/// the late-change window; the old links die and a new one is issued.
pub async fn move_to_hold(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    token: &str,
    hold_id: Uuid,
    hold_token: &str,
    now: DateTime<Utc>,
) -> Result<(SessionView, String), AppError> {
    let row = session_of(conn, token, true, now).await?;
    in_time(conn, &row, now).await?;
    let hold = held(conn, hold_id, hold_token, now).await?;
    let same = hold.provider_id == row.provider_id
        && hold.location_id == row.location_id
        && hold.treatment_area_id == row.treatment_area_id
        && hold.kind == row.kind;
    if !same {
        return Err(AppError::rule(
            "hold_id",
            "holds a time with another provider, place or kind of session than this one",
        ));
    }
    crate::models::holds::release(conn, hold.id, now).await?;
    let command = Reschedule {
        id: row.id,
        expected: Expected::Any,
        starts_at: hold.starts_at,
        reason: Some("moved by the patient online".to_owned()),
        force: false,
        cascade: false,
    };
    let view = reschedule::reschedule(conn, caller, &command, now).await?;
    let token = issue(conn, row.id, now).await?;
    Ok((view, token))
}

/// "Tell me about an earlier time": puts the link's session on the waitlist, to be moved
/// earlier when a time with its provider frees (409 `duplicate` if it is there already).
pub async fn join_waitlist(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    token: &str,
    now: DateTime<Utc>,
) -> Result<crate::models::waitlist::Entry, AppError> {
    let row = session_of(conn, token, true, now).await?;
    if !row.status.is_upcoming() {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            format!("the session is {}", row.status.as_str()),
        ));
    }
    let join = waitlist::Join {
        patient_id: row.patient_id,
        treatment_area_id: row.treatment_area_id,
        kind: row.kind,
        provider_id: Some(row.provider_id),
        location_id: Some(row.location_id),
        earliest: None,
        latest: None,
        weekdays: Vec::new(),
        time_window: None,
        urgent: false,
        session_id: Some(row.id),
    };
    waitlist::join(conn, caller, join, EntrySource::Patient, now).await
}

/// A session as its link shows it (also right after a change through the link).
pub async fn managed(
    conn: &mut AsyncPgConnection,
    row: Session,
    now: DateTime<Utc>,
) -> Result<Managed, AppError> {
    let late_hours = settings::get(conn).await?.late_cancellation_hours;
    let place = place_of(
        conn,
        row.location_id,
        row.provider_id,
        row.treatment_area_id,
    )
    .await?;
    Ok(Managed {
        allowed: allowed(row.status, row.starts_at, late_hours, now),
        row,
        place,
    })
}
