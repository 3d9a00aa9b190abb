//! An offer through its link: what it shows (nothing changes), and its acceptance, which
//! books the time (or moves the entry's session to it) through the booking use cases. The
//! first acceptance of an opening wins: acceptances take the opening's lock in turn, and a
//! unique index admits one accepted offer per opening whatever the replicas.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::fit;
use super::offers::record_closed;
use super::{event_of, history};
use crate::app::booking::book::{self, Book};
use crate::app::booking::reschedule::{self, Reschedule};
use crate::app::calendar::{Parties, SessionView};
use crate::app::caller::{Caller, Expected};
use crate::app::events;
use crate::app::notifications::compose::{Place, place_of};
use crate::app::online::manage;
use crate::domain::access::{generate_link_token, hash_key};
use crate::domain::events::EventType;
use crate::domain::waitlist::{Actor, EntryStatus, HistoryAction, OfferStatus};
use crate::error::{AppError, ProblemType};
use crate::models::waitlist::{self as entries_model, Entry};
use crate::models::waitlist_offers::{self as model, Offer, opening_status};
use crate::models::{audit_events, sessions};

/// An offer as its link shows it.
pub struct OfferView {
    pub offer: Offer,
    pub entry: Entry,
    pub place: Place,
    /// Accepting moves a course session so far earlier that the course's later sessions must
    /// move along (`cascade`).
    pub cascade_required: bool,
}

/// A new link for the offer: only its token's hash is kept, so each email brings its own.
pub async fn issue_token(conn: &mut AsyncPgConnection, offer: &Offer) -> Result<String, AppError> {
    let (token, hash) = generate_link_token().map_err(|e| AppError::Internal(Box::new(e)))?;
    model::set_token(conn, offer.id, &hash).await?;
    Ok(token)
}

/// The link of an offer: the booking page, the token in its fragment.
pub fn link(public_url: &str, token: &str) -> String {
    format!("{}/book#offer={token}", public_url.trim_end_matches('/'))
}

fn unknown() -> AppError {
    AppError::NotFound("waitlist offer")
}

/// What the link shows; it changes nothing (mail scanners follow links).
pub async fn view(conn: &mut AsyncPgConnection, token: &str) -> Result<OfferView, AppError> {
    let offer = model::by_token(conn, &hash_key(token), false)
        .await?
        .ok_or_else(unknown)?;
    shown(conn, offer).await
}

async fn shown(conn: &mut AsyncPgConnection, offer: Offer) -> Result<OfferView, AppError> {
    let entry = entries_model::find(conn, offer.entry_id)
        .await?
        .ok_or_else(unknown)?;
    let place = place_of(
        conn,
        offer.location_id,
        offer.provider_id,
        entry.treatment_area_id,
    )
    .await?;
    let candidate = fit::candidates(conn, vec![entry.clone()]).await?;
    let cascade_required = candidate
        .first()
        .is_some_and(|c| c.strands_next(offer.starts_at, place.zone));
    Ok(OfferView {
        offer,
        entry,
        place,
        cascade_required,
    })
}

/// What an acceptance came to.
pub enum Accepted {
    /// The session booked (or moved), with a manage link's new token.
    Booked(Box<SessionView>, String),
    /// The time was gone: booked otherwise since the offer. The offers of the time are
    /// closed (committed), the entry stays waiting; answer 409 `offer-taken`.
    Gone,
}

/// Accepts the offer of `token`: books its time for the entry's patient, or moves the entry's
/// session to it (with `cascade`, the course's later sessions follow to keep their windows).
pub async fn accept(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    token: &str,
    cascade: bool,
    now: DateTime<Utc>,
) -> Result<Accepted, AppError> {
    let hash = hash_key(token);
    let found = model::by_token(conn, &hash, false)
        .await?
        .ok_or_else(unknown)?;
    // The opening first, then the offer: rival acceptances queue on the opening.
    let opening = model::opening_for_update(conn, found.opening_id)
        .await?
        .ok_or_else(unknown)?;
    let offer = model::by_token(conn, &hash, true)
        .await?
        .ok_or_else(unknown)?;
    let entry = entries_model::find_for_update(conn, offer.entry_id)
        .await?
        .ok_or_else(unknown)?;
    match offer.status {
        OfferStatus::Open if now < offer.expires_at => {}
        OfferStatus::Open | OfferStatus::Expired => {
            return Err(AppError::Problem(
                ProblemType::OfferExpired,
                "the offer expired; the entry stays on the waitlist".into(),
            ));
        }
        OfferStatus::Accepted => {
            return Err(AppError::Problem(
                ProblemType::OfferTaken,
                "the offer was accepted already".into(),
            ));
        }
        OfferStatus::Taken | OfferStatus::Closed => {
            return Err(AppError::Problem(
                ProblemType::OfferTaken,
                "someone else took this time first; the entry stays on the waitlist".into(),
            ));
        }
    }
    if entry.status != EntryStatus::Waiting {
        return Err(AppError::Problem(
            ProblemType::OfferExpired,
            format!("the waitlist entry is {}", entry.status.as_str()),
        ));
    }
    // The front desk may have moved the session since: an offer only ever brings it earlier.
    if let Some(session_id) = entry.session_id {
        let session = sessions::find(conn, session_id).await?;
        if session.is_some_and(|s| s.starts_at <= offer.starts_at) {
            return Err(AppError::Problem(
                ProblemType::OfferExpired,
                "the appointment is already at this time or earlier".into(),
            ));
        }
    }
    // The booking in a savepoint: a time taken since the offer closes the offers and is
    // kept, whatever else the booking wrote is undone.
    let booked = conn
        .transaction::<_, AppError, _>(async |conn| {
            take(conn, caller, &entry, &offer, cascade, now).await
        })
        .await;
    let view = match booked {
        Ok(view) => view,
        Err(error) if gone(&error) => {
            let closed =
                model::close_of_openings(conn, &[opening.id], OfferStatus::Closed, now).await?;
            for of_entry in group_by_entry(conn, &closed).await? {
                record_closed(conn, &of_entry.0, &of_entry.1, Actor::System, now).await?;
            }
            model::set_opening(conn, opening.id, opening_status::DONE, None).await?;
            return Ok(Accepted::Gone);
        }
        Err(error) => return Err(error),
    };
    let session_id = view.row.id;
    let offer = model::accept(conn, offer.id, session_id, now).await?;
    let entry =
        entries_model::end(conn, entry.id, EntryStatus::Booked, Some(session_id), now).await?;
    let taken = model::close_of_openings(conn, &[opening.id], OfferStatus::Taken, now).await?;
    model::set_opening(conn, opening.id, opening_status::FILLED, None).await?;
    let actor = Actor::Patient;
    entries_model::add_history(
        conn,
        vec![
            history(&entry, Some(&offer), HistoryAction::Accepted, actor, now),
            history(&entry, Some(&offer), HistoryAction::Booked, actor, now),
        ],
    )
    .await?;
    events::record(
        conn,
        now,
        [event_of(
            EventType::WaitlistOfferAccepted,
            &entry,
            Some(&offer),
        )],
    )
    .await?;
    for (other, offers) in group_by_entry(conn, &taken).await? {
        record_closed(conn, &other, &offers, Actor::System, now).await?;
    }
    let audit = caller
        .audit("waitlist.accept", "waitlist_offers", Some(offer.id), 200)
        .patient(entry.patient_id);
    audit_events::append(conn, audit).await?;
    let manage_token = manage::issue(conn, session_id, now).await?;
    Ok(Accepted::Booked(Box::new(view), manage_token))
}

/// Books the offer's time, or moves the entry's session to it.
async fn take(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    entry: &Entry,
    offer: &Offer,
    cascade: bool,
    now: DateTime<Utc>,
) -> Result<SessionView, AppError> {
    match entry.session_id {
        Some(session_id) => {
            let command = Reschedule {
                id: session_id,
                expected: Expected::Any,
                starts_at: offer.starts_at,
                reason: Some("moved earlier from the waitlist".to_owned()),
                force: false,
                cascade,
            };
            reschedule::reschedule(conn, caller, &command, now).await
        }
        None => {
            let command = Book {
                parties: Parties {
                    patient_id: entry.patient_id,
                    provider_id: offer.provider_id,
                    location_id: offer.location_id,
                    treatment_area_id: entry.treatment_area_id,
                },
                kind: entry.kind,
                starts_at: offer.starts_at,
                course_id: None,
            };
            book::book(conn, caller, &command, now).await
        }
    }
}

/// Whether a refused booking means the time is no longer there to take.
fn gone(error: &AppError) -> bool {
    match error {
        AppError::ResourceUnavailable(_) => true,
        AppError::Problem(kind, _) => matches!(
            kind,
            ProblemType::SlotTaken
                | ProblemType::ProviderOnTimeOff
                | ProblemType::OutsideWorkingHours
                | ProblemType::TooShortNotice
        ),
        _ => false,
    }
}

async fn group_by_entry(
    conn: &mut AsyncPgConnection,
    offers: &[Offer],
) -> Result<Vec<(Entry, Vec<Offer>)>, AppError> {
    let ids: Vec<_> = offers.iter().map(|o| o.entry_id).collect();
    let entries = entries_model::by_ids(conn, &ids).await?;
    Ok(entries
        .into_iter()
        .map(|entry| {
            let of: Vec<Offer> = offers
                .iter()
                .filter(|o| o.entry_id == entry.id)
                .cloned()
                .collect();
            (entry, of)
        })
        .collect())
}
