//! The front desk's view: for each open slot of a provider in a range, the waiting entries
//! that fit it, first in line first, so staff can phone instead of waiting for an offer.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::fit;
use crate::domain::sessions::SessionKind;
use crate::domain::slots::Slot;
use crate::domain::waitlist::{Fit, first_in_line};
use crate::error::AppError;
use crate::models::waitlist::{self as entries_model, Entry};

/// The longest range one request may ask for.
pub const MAX_DAYS: i64 = 14;
/// The most slots one answer lists.
pub const MAX_SLOTS: usize = 500;

/// Whose slots, on which local dates (inclusive).
#[derive(Debug, Clone)]
pub struct MatchQuery {
    pub provider_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// An open slot and the entries that fit it.
#[derive(Debug, Clone)]
pub struct SlotMatch {
    pub slot: Slot,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    /// First in line first.
    pub entries: Vec<Entry>,
    /// The entries (by id) for whom taking the slot moves their course's later sessions.
    pub cascade_required: Vec<Uuid>,
}

pub async fn matches(
    conn: &mut AsyncPgConnection,
    query: &MatchQuery,
    now: DateTime<Utc>,
) -> Result<Vec<SlotMatch>, AppError> {
    if query.to < query.from {
        return Err(AppError::rule("to", "must not be before from"));
    }
    if (query.to - query.from).num_days() >= MAX_DAYS {
        return Err(AppError::rule(
            "to",
            format!("the range may span at most {MAX_DAYS} days"),
        ));
    }
    let waiting = entries_model::waiting_for(conn, query.provider_id).await?;
    let candidates = fit::candidates(conn, waiting).await?;
    let fitting = fit::fitting(
        conn,
        query.provider_id,
        None,
        (query.from, query.to),
        None,
        &candidates,
        now,
    )
    .await?;
    type Key = (DateTime<Utc>, Uuid, Uuid, &'static str);
    let mut by_slot: BTreeMap<Key, (Slot, SessionKind, Vec<Fit>)> = BTreeMap::new();
    for (index, slots) in &fitting {
        let entry = &candidates[*index].entry;
        for slot in slots {
            let key = (
                slot.starts_at,
                slot.location_id,
                entry.treatment_area_id,
                entry.kind.as_str(),
            );
            by_slot
                .entry(key)
                .or_insert_with(|| (*slot, entry.kind, Vec::new()))
                .2
                .push(Fit {
                    entry_id: entry.id,
                    urgent: entry.urgent,
                    joined_at: entry.created_at,
                    starts_at: slot.starts_at,
                    ends_at: slot.ends_at,
                });
        }
    }
    let zones = crate::models::locations::time_zones(
        conn,
        &by_slot.keys().map(|k| k.1).collect::<Vec<_>>(),
    )
    .await?;
    Ok(by_slot
        .into_iter()
        .take(MAX_SLOTS)
        .map(|((_, location_id, area, _), (slot, kind, fits))| {
            let count = fits.len();
            let zone = crate::app::calendar::zone_in(&zones, location_id);
            let ranked = first_in_line(fits, count);
            let entries: Vec<Entry> = ranked
                .iter()
                .filter_map(|fit| candidates.iter().find(|c| c.entry.id == fit.entry_id))
                .map(|c| c.entry.clone())
                .collect();
            let cascade_required = ranked
                .iter()
                .filter_map(|fit| candidates.iter().find(|c| c.entry.id == fit.entry_id))
                .filter(|c| c.strands_next(slot.starts_at, zone))
                .map(|c| c.entry.id)
                .collect();
            SlotMatch {
                slot,
                treatment_area_id: area,
                kind,
                entries,
                cascade_required,
            }
        })
        .collect())
}
