//! Hold a slot for a visitor while they book it.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::app::calendar::{self, Slot};
use crate::app::caller::Caller;
use crate::app::resources::allocate;
use crate::domain::access::generate_link_token;
use crate::domain::online::{MAX_LIVE_HOLDS_PER_CLIENT, bookable_online};
use crate::domain::sessions::SessionKind;
use crate::error::{AppError, ProblemType};
use crate::models::allocations::Owner;
use crate::models::holds::{self as model, Hold, NewHold};
use crate::models::{audit_events, settings};

/// A slot to hold.
#[derive(Debug, Clone)]
pub struct HoldSlot {
    pub slot: Slot,
    pub kind: SessionKind,
    pub starts_at: DateTime<Utc>,
    /// The client's address (by the trusted-proxy rule): it counts the live holds.
    pub client: String,
}

/// A hold taken, with its token (shown once; only its hash is stored).
#[derive(Debug, Clone)]
pub struct Held {
    pub hold: Hold,
    pub token: String,
    pub zone: chrono_tz::Tz,
}

/// Holds the slot for `hold_minutes`: it passes every booking rule but the patient's, the
/// client has fewer than three live holds, and no session or live hold claims the provider's
/// time (the database's exclusion constraint decides a race: 409 `slot-taken`).
pub async fn hold(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: &HoldSlot,
    now: DateTime<Utc>,
) -> Result<Held, AppError> {
    if !bookable_online(command.kind) {
        return Err(AppError::rule(
            "kind",
            "online booking takes assessments; the clinic books the other sessions",
        ));
    }
    model::lock_client(conn, &command.client).await?;
    if model::live_of_client(conn, &command.client, now).await? >= MAX_LIVE_HOLDS_PER_CLIENT {
        return Err(AppError::Problem(
            ProblemType::TooManyHolds,
            format!(
                "{MAX_LIVE_HOLDS_PER_CLIENT} times are held from this address already: book \
                 one, or wait for one to expire"
            ),
        ));
    }
    let checked =
        calendar::check_slot(conn, command.slot, command.kind, command.starts_at, now).await?;
    let minutes = settings::get(conn).await?.hold_minutes;
    let (token, token_hash) = generate_link_token().map_err(|e| AppError::Internal(Box::new(e)))?;
    let new = NewHold {
        id: Uuid::now_v7(),
        token_hash,
        client: command.client.clone(),
        provider_id: command.slot.provider_id,
        location_id: command.slot.location_id,
        treatment_area_id: command.slot.treatment_area_id,
        kind: command.kind,
        starts_at: checked.span.start,
        ends_at: checked.span.end,
        held_until: checked.held_until,
        created_at: now,
        expires_at: now + Duration::minutes(i64::from(minutes)),
    };
    let hold = model::insert(conn, new).await?;
    // The rooms and devices the session will need are kept with the slot.
    let owner = Owner::Hold {
        id: hold.id,
        created_at: hold.created_at,
        expires_at: hold.expires_at,
    };
    let needs = checked.needs(command.kind, command.slot.location_id);
    allocate::allocate(conn, owner, &needs, checked.held(), now).await?;
    audit_events::append(
        conn,
        caller.audit("hold.create", "holds", Some(hold.id), 201),
    )
    .await?;
    Ok(Held {
        hold,
        token,
        zone: checked.zone(),
    })
}
