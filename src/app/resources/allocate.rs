//! Giving a session (or a hold) one free resource per tag it needs, in the booking's
//! transaction. The choice is the domain's; the exclusion constraint on `session_resources`
//! settles races, and a choice that lost one is made again from what then stands.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::domain::resources::{Requirements, choose};
use crate::domain::sessions::SessionKind;
use crate::domain::slots::{Span, local_instant};
use crate::error::AppError;
use crate::models::allocations::{self, Allocated, Owner};
use crate::models::holds;

/// What a session needs where: the tags, its location, and the zone its day is read in.
#[derive(Debug, Clone)]
pub struct Needs {
    pub tags: Vec<String>,
    pub location_id: Uuid,
    pub zone: Tz,
}

impl Needs {
    /// What a session of `kind` at `location_id` needs under `requirements`.
    pub fn of(requirements: &Requirements, kind: SessionKind, location_id: Uuid, zone: Tz) -> Self {
        Self {
            tags: requirements.of(kind).to_vec(),
            location_id,
            zone,
        }
    }
}

/// Choosing again after a lost race: each retry follows a rival's commit, so a handful is
/// plenty; past it the answer is that nothing is free.
const MAX_TRIES: usize = 8;

/// Allocates one free resource per tag of `needs` to `owner` over `period` (the session's span
/// with its buffer). Expired holds at the location on the span are released first, as their
/// rows would stand in the way. Nothing needed: nothing read or written.
pub async fn allocate(
    conn: &mut AsyncPgConnection,
    owner: Owner,
    needs: &Needs,
    period: Span,
    now: DateTime<Utc>,
) -> Result<Vec<Allocated>, AppError> {
    let Some(first) = needs.tags.first() else {
        return Ok(Vec::new());
    };
    allocations::lock_candidates(conn, needs.location_id, &needs.tags).await?;
    holds::clear_expired_at(conn, needs.location_id, period, now).await?;
    let day = local_day(period.start, needs.zone);
    for _ in 0..MAX_TRIES {
        let candidates =
            allocations::candidates(conn, needs.location_id, &needs.tags, period, day, now).await?;
        let picks = choose(&needs.tags, &candidates).map_err(AppError::ResourceUnavailable)?;
        let inserted = allocations::insert(conn, owner, &picks, period).await?;
        if inserted.len() == picks.len() {
            let session_id = match owner {
                Owner::Session(id) | Owner::Hold { id, .. } => id,
            };
            return Ok(picks
                .into_iter()
                .filter_map(|(tag, id)| {
                    let found = candidates.iter().find(|c| c.id == id)?;
                    Some(Allocated {
                        session_id,
                        id,
                        name: found.name.clone(),
                        kind: found.kind,
                        tag,
                    })
                })
                .collect());
        }
        // A rival took one meanwhile: drop what this try got and choose again.
        allocations::release(conn, owner).await?;
    }
    Err(AppError::ResourceUnavailable(first.clone()))
}

/// Gives a session that moved (to `period`) its resources anew: its old rows go, then it is
/// allocated as if booked there.
pub async fn reallocate(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    needs: &Needs,
    period: Span,
    now: DateTime<Utc>,
) -> Result<Vec<Allocated>, AppError> {
    let owner = Owner::Session(session_id);
    allocations::release(conn, owner).await?;
    allocate(conn, owner, needs, period, now).await
}

/// The local day (midnight to midnight in `zone`) around `instant`.
fn local_day(instant: DateTime<Utc>, zone: Tz) -> Span {
    let date = instant.with_timezone(&zone).date_naive();
    let midnight = chrono::NaiveTime::MIN;
    let next = date.succ_opt().unwrap_or(date);
    let start = local_instant(date, midnight, zone, false);
    let end = local_instant(next, midnight, zone, false);
    Span {
        start,
        end: end.max(start + Duration::hours(1)),
    }
}
