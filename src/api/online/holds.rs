//! `POST /v1/holds`: keep a slot for a few minutes while the visitor books it.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, FixedOffset};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::sessions::parse_start;
use crate::app::calendar::Slot;
use crate::app::online::holds::{self, HoldSlot};
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::Holder;
use crate::http::extract::Json;
use crate::http::problems::*;
use crate::http::state::AppState;

/// A slot to hold, as `GET /v1/availability` offered it.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "provider_id": "01a220a8-0ab0-711c-9d0c-b548723b66b8",
    "location_id": "01a220a8-0a75-7712-9d57-ec6ab303a5e2",
    "treatment_area_id": "01a220a8-0a9b-7d1c-8f0e-6d2a1b3c4d5e",
    "kind": "assessment",
    "starts_at": "2027-03-15T09:00:00-06:00"
}))]
pub struct CreateHold {
    #[garde(skip)]
    pub provider_id: Uuid,
    #[garde(skip)]
    pub location_id: Uuid,
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    /// Online, `assessment` (the clinic books the other kinds).
    #[garde(skip)]
    pub kind: SessionKind,
    /// RFC 3339 with an offset, on a whole minute.
    #[garde(length(max = 64))]
    #[schema(format = DateTime)]
    pub starts_at: String,
}

/// A hold: keep `token` (it is shown once) to book the slot before `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldCreated {
    pub id: Uuid,
    /// The hold's secret: `POST /v1/bookings` (or a manage link's reschedule) sends it back.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub token: String,
    /// When the slot is free again unless booked (`hold_minutes` from now).
    #[schema(value_type = String, format = DateTime, example = "2027-03-01T10:10:00-07:00")]
    pub expires_at: DateTime<FixedOffset>,
    /// Seconds from this answer to `expires_at`, for a countdown that needs no clock on the
    /// client's side.
    #[schema(example = 600)]
    pub expires_in_seconds: i64,
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:00:00-06:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:45:00-06:00")]
    pub ends_at: DateTime<FixedOffset>,
}

/// Hold a slot
///
/// Keeps the slot for the clinic's `hold_minutes` (default 10): while the hold lives, the slot
/// is in no availability and no booking can take it, the front desk's included (the database
/// keeps holds and sessions apart across replicas). An expired hold frees its slot at once.
/// The slot must pass every booking rule; online, only assessments are held. A client (by its
/// IP address) may hold three slots at once; a fourth is 429 `too-many-holds`.
#[utoipa::path(
    tag = "online booking",
    request_body = CreateHold,
    responses(
        (status = 201, description = "Held", body = HoldCreated),
        (status = 409, description = "The provider's time is taken (`slot-taken`), or a room or device it needs (`resource-unavailable` naming the `tag`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A booking rule is broken: `outside-working-hours`, `provider-on-time-off`, `provider-not-eligible`, `too-short-notice`, `beyond-horizon`, `inactive-record`, or `unprocessable-values` (a record that does not exist, a kind not booked online)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/holds")]
pub async fn create_hold(
    Holder(caller, client): Holder,
    state: web::Data<AppState>,
    Json(body): Json<CreateHold>,
) -> Result<HttpResponse, AppError> {
    let command = HoldSlot {
        slot: Slot {
            provider_id: body.provider_id,
            location_id: body.location_id,
            treatment_area_id: body.treatment_area_id,
        },
        kind: body.kind,
        starts_at: parse_start(&body.starts_at)?,
        client,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let held = conn
        .transaction::<_, AppError, _>(async |conn| holds::hold(conn, &caller, &command, now).await)
        .await?;
    let zone = held.zone;
    Ok(HttpResponse::Created().json(HoldCreated {
        id: held.hold.id,
        token: held.token,
        expires_at: held.hold.expires_at.with_timezone(&zone).fixed_offset(),
        expires_in_seconds: (held.hold.expires_at - now).num_seconds(),
        starts_at: held.hold.starts_at.with_timezone(&zone).fixed_offset(),
        ends_at: held.hold.ends_at.with_timezone(&zone).fixed_offset(),
    }))
}
