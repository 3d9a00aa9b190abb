//! Offering openings: a due opening goes to the first `waitlist_offer_count` waiting entries
//! it fits (urgent first, then the longest waiting), each offer open for
//! `waitlist_offer_minutes`; and the sweep that expires unanswered offers, hands their time to
//! the next in line, and ends entries whose time has gone.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::fit::{self, Candidate};
use super::{event_of, history};
use crate::app::events;
use crate::domain::events::EventType;
use crate::domain::waitlist::{Actor, EntryStatus, Fit, HistoryAction, OfferStatus, first_in_line};
use crate::error::{AppError, ProblemType};
use crate::models::waitlist::{self as entries_model, Entry};
use crate::models::waitlist_offers::{self as model, NewOffer, Offer, Opening, opening_status};
use crate::models::{holds, patients, settings};

/// What one pass of offering did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Offered {
    /// Openings looked at.
    pub openings: usize,
    /// Offers made.
    pub offers: usize,
}

/// Offers every due opening, one per transaction, until none is due (another replica skips
/// the one this one holds, and takes the next).
pub async fn offer_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<Offered, AppError> {
    let mut done = Offered::default();
    loop {
        let made = conn
            .transaction::<_, AppError, _>(async |conn| {
                let Some(opening) = model::next_due(conn, now).await? else {
                    return Ok(None);
                };
                Ok(Some(offer_opening(conn, &opening, now).await?))
            })
            .await;
        match made {
            Ok(Some(offers)) => {
                done.openings += 1;
                done.offers += offers;
            }
            Ok(None) => return Ok(done),
            // Another replica offered one of these patients another time meanwhile (one open
            // offer per entry, `waitlist_offers_one_open`): the opening is still due, and the
            // next try leaves that patient out.
            Err(AppError::Problem(ProblemType::OfferTaken, _)) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Offers one opening (locked by the caller); returns the offers made.
async fn offer_opening(
    conn: &mut AsyncPgConnection,
    opening: &Opening,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let (start, end) = (opening.starts_at, opening.ends_at);
    // Someone booking online holds part of it: look again once the hold has lapsed.
    if let Some(until) = holds::live_until(conn, opening.provider_id, start, end, now).await? {
        let again = until + Duration::seconds(1);
        model::set_opening(conn, opening.id, opening_status::PENDING, Some(again)).await?;
        return Ok(0);
    }
    let settings = settings::get(conn).await?;
    let offered_before = model::entries_offered(conn, opening.id).await?;
    let waiting: Vec<Entry> = entries_model::waiting_for(conn, opening.provider_id)
        .await?
        .into_iter()
        .filter(|e| e.location_id.is_none_or(|id| id == opening.location_id))
        .filter(|e| e.latest.is_none_or(|latest| latest > start))
        .filter(|e| e.earliest.is_none_or(|earliest| earliest < end))
        .filter(|e| !offered_before.contains(&e.id))
        .collect();
    let ids: Vec<Uuid> = waiting.iter().map(|e| e.id).collect();
    // One open offer at a time per entry: a patient weighs one time, not several.
    let holding = model::holding_offers(conn, &ids, now).await?;
    // An offer goes by email: one nobody can read would keep the time from the next in line
    // (the front desk's matches still list such patients, to phone them).
    let patient_ids: Vec<Uuid> = waiting.iter().map(|e| e.patient_id).collect();
    let reachable = patients::reachable_by_email(conn, &patient_ids).await?;
    let waiting: Vec<Entry> = waiting
        .into_iter()
        .filter(|e| !holding.contains(&e.id) && reachable.contains(&e.patient_id))
        .collect();
    let candidates: Vec<Candidate> = fit::candidates(conn, waiting).await?;
    let zone = crate::app::calendar::zone_of(conn, opening.location_id).await?;
    let dates = (
        start.with_timezone(&zone).date_naive(),
        end.with_timezone(&zone).date_naive(),
    );
    let fitting = fit::fitting(
        conn,
        opening.provider_id,
        Some(opening.location_id),
        dates,
        Some((start, end)),
        &candidates,
        now,
    )
    .await?;
    let fits: Vec<Fit> = fitting
        .iter()
        .filter_map(|(index, slots)| {
            let entry = &candidates[*index].entry;
            slots.first().map(|slot| Fit {
                entry_id: entry.id,
                urgent: entry.urgent,
                joined_at: entry.created_at,
                starts_at: slot.starts_at,
                ends_at: slot.ends_at,
            })
        })
        .collect();
    let chosen = first_in_line(fits, settings.waitlist_offer_count.max(1) as usize);
    if chosen.is_empty() {
        model::set_opening(conn, opening.id, opening_status::DONE, None).await?;
        return Ok(0);
    }
    let expires_at = now + Duration::minutes(i64::from(settings.waitlist_offer_minutes));
    let rows = chosen
        .iter()
        .map(|fit| NewOffer {
            id: Uuid::now_v7(),
            opening_id: opening.id,
            entry_id: fit.entry_id,
            provider_id: opening.provider_id,
            location_id: opening.location_id,
            starts_at: fit.starts_at,
            ends_at: fit.ends_at,
            created_at: now,
            expires_at,
        })
        .collect();
    let offers = model::insert(conn, rows).await?;
    let mut histories = Vec::new();
    let mut domain_events = Vec::new();
    for offer in &offers {
        let Some(candidate) = candidates.iter().find(|c| c.entry.id == offer.entry_id) else {
            continue;
        };
        let entry = &candidate.entry;
        histories.push(history(
            entry,
            Some(offer),
            HistoryAction::Offered,
            Actor::System,
            now,
        ));
        domain_events.push(event_of(
            EventType::WaitlistOfferCreated,
            entry,
            Some(offer),
        ));
    }
    entries_model::add_history(conn, histories).await?;
    events::record(conn, now, domain_events).await?;
    model::set_opening(conn, opening.id, opening_status::OFFERED, None).await?;
    Ok(offers.len())
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub offers_expired: usize,
    pub entries_expired: usize,
    /// Openings whose offers all went unanswered, handed to the next in line.
    pub reopened: usize,
}

/// Expires unanswered offers and entries whose time has gone, and puts openings whose
/// offers all lapsed back in line for the entries not yet offered them: one transaction.
pub async fn sweep(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> Result<Swept, AppError> {
    conn.transaction::<_, AppError, _>(async |conn| {
        let mut swept = Swept::default();
        let expired = model::expire_due(conn, now).await?;
        swept.offers_expired = expired.len();
        let ids: Vec<Uuid> = expired.iter().map(|o| o.entry_id).collect();
        let entries = entries_model::by_ids(conn, &ids).await?;
        let mut histories = Vec::new();
        let mut domain_events = Vec::new();
        for offer in &expired {
            if let Some(entry) = entries.iter().find(|e| e.id == offer.entry_id) {
                histories.push(history(
                    entry,
                    Some(offer),
                    HistoryAction::OfferExpired,
                    Actor::System,
                    now,
                ));
                domain_events.push(event_of(
                    EventType::WaitlistOfferExpired,
                    entry,
                    Some(offer),
                ));
            }
        }
        for entry in entries_model::lapsed(conn, now).await? {
            let entry = entries_model::end(conn, entry.id, EntryStatus::Expired, None, now).await?;
            let closed = model::close_of_entry(conn, entry.id, now).await?;
            for offer in &closed {
                histories.push(history(
                    &entry,
                    Some(offer),
                    HistoryAction::OfferClosed,
                    Actor::System,
                    now,
                ));
                domain_events.push(event_of(
                    EventType::WaitlistOfferClosed,
                    &entry,
                    Some(offer),
                ));
            }
            histories.push(history(
                &entry,
                None,
                HistoryAction::Expired,
                Actor::System,
                now,
            ));
            domain_events.push(event_of(EventType::WaitlistEntryExpired, &entry, None));
            swept.entries_expired += 1;
        }
        entries_model::add_history(conn, histories).await?;
        events::record(conn, now, domain_events).await?;
        for opening_id in model::unanswered(conn).await? {
            model::set_opening(conn, opening_id, opening_status::PENDING, Some(now)).await?;
            swept.reopened += 1;
        }
        Ok(swept)
    })
    .await
}

/// The history rows and events of `offers` of `entry` closed (or taken, by their status).
pub async fn record_closed(
    conn: &mut AsyncPgConnection,
    entry: &Entry,
    offers: &[Offer],
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if offers.is_empty() {
        return Ok(());
    }
    let action = |offer: &Offer| match offer.status {
        OfferStatus::Taken => HistoryAction::OfferTaken,
        _ => HistoryAction::OfferClosed,
    };
    let histories = offers
        .iter()
        .map(|offer| history(entry, Some(offer), action(offer), actor, now))
        .collect();
    entries_model::add_history(conn, histories).await?;
    let domain_events = offers
        .iter()
        .map(|offer| event_of(EventType::WaitlistOfferClosed, entry, Some(offer)));
    events::record(conn, now, domain_events).await?;
    Ok(())
}
