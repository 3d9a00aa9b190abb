//! `GET /v1/waitlist/matches`: a provider's open slots in a range, each with the waiting
//! entries that fit it, so the front desk can phone someone instead of waiting for an offer.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::waitlist::matches::{self as app, MatchQuery, SlotMatch};
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::extract::Query;
use crate::http::problems::*;
use crate::http::state::AppState;

/// Whose slots, on which local dates.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct MatchesQuery {
    #[garde(skip)]
    pub provider_id: Uuid,
    /// First local date, `YYYY-MM-DD` (inclusive).
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[garde(skip)]
    #[param(value_type = String, format = Date, example = "2027-01-04")]
    pub from: NaiveDate,
    /// Last local date, `YYYY-MM-DD` (inclusive); at most 13 days after `from`.
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[garde(skip)]
    #[param(value_type = String, format = Date, example = "2027-01-08")]
    pub to: NaiveDate,
}

/// A waiting entry that fits a slot.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchingEntry {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub urgent: bool,
    /// The session taking the slot would move (a new one is booked when absent).
    pub session_id: Option<Uuid>,
    /// Taking the slot moves the course's later sessions along (`cascade`).
    pub cascade_required: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An open slot and who fits it, first in line first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotMatches {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    /// In the location's time zone, with its offset.
    #[schema(value_type = String, format = DateTime, example = "2027-01-05T09:00:00-07:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-01-05T09:45:00-07:00")]
    pub ends_at: DateTime<FixedOffset>,
    pub entries: Vec<MatchingEntry>,
}

impl From<SlotMatch> for SlotMatches {
    fn from(found: SlotMatch) -> Self {
        let SlotMatch {
            slot,
            treatment_area_id,
            kind,
            entries,
            cascade_required,
        } = found;
        Self {
            provider_id: slot.provider_id,
            location_id: slot.location_id,
            treatment_area_id,
            kind,
            starts_at: slot.starts_at.with_timezone(&slot.offsets.0),
            ends_at: slot.ends_at.with_timezone(&slot.offsets.1),
            entries: entries
                .into_iter()
                .map(|entry| MatchingEntry {
                    cascade_required: cascade_required.contains(&entry.id),
                    id: entry.id,
                    patient_id: entry.patient_id,
                    urgent: entry.urgent,
                    session_id: entry.session_id,
                    created_at: entry.created_at,
                })
                .collect(),
        }
    }
}

/// The slots and their entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistMatches {
    /// By start; only slots some waiting entry fits (at most 500).
    pub slots: Vec<SlotMatches>,
}

/// Who on the waitlist fits a provider's open slots
///
/// Each open slot of the provider on the local dates `from` to `to` (at most 14 days), as
/// availability computes it for the treatment areas and kinds patients wait for, with the
/// waiting entries that fit it by the same rules offers follow, first in line first.
#[utoipa::path(
    tag = "waitlist",
    security(("bearer" = [])),
    params(MatchesQuery),
    responses(
        (status = 200, description = "The slots and who fits them", body = WaitlistMatches),
        (status = 400, response = BadRequest),
        (status = 422, response = UnprocessableValues),
        AuthErrors, ServerErrors,
    )
)]
#[get("/waitlist/matches")]
pub async fn waitlist_matches(
    _caller: StaffKey,
    state: web::Data<AppState>,
    Query(query): Query<MatchesQuery>,
) -> Result<HttpResponse, AppError> {
    let query = MatchQuery {
        provider_id: query.provider_id,
        from: query.from,
        to: query.to,
    };
    let mut conn = state.conn().await?;
    let found = app::matches(&mut conn, &query, state.now()).await?;
    Ok(HttpResponse::Ok().json(WaitlistMatches {
        slots: found.into_iter().map(SlotMatches::from).collect(),
    }))
}
