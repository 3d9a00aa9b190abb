//! The waitlist: `/v1/waitlist` for the front desk (entries, and who fits which open slot),
//! `/v1/waitlist/offers/{token}` for the patient an offer was emailed to.

pub mod matches;
pub mod offers;

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::waitlist::{self as app, Change, EntryView, Join, fit};
use crate::domain::sessions::SessionKind;
use crate::domain::time::Weekday;
use crate::domain::waitlist::{
    Actor, EntrySource, EntryStatus, HistoryAction, OfferStatus, TimeWindow,
};
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::conditional::{IfMatch, created, ok_tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::waitlist::{self as model, Entry, EntryFilter, HistoryEntry};
use crate::models::waitlist_offers::Offer;

/// A patient waiting for an earlier time.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub treatment_area_id: Uuid,
    pub kind: SessionKind,
    /// Only this provider's time (any provider treating the area when absent).
    pub provider_id: Option<Uuid>,
    /// Only this location (any when absent).
    pub location_id: Option<Uuid>,
    /// No time before this instant.
    pub earliest: Option<DateTime<Utc>>,
    /// No time from this instant on; the entry expires then.
    pub latest: Option<DateTime<Utc>>,
    /// The weekdays the patient can come on (any when empty).
    pub weekdays: Vec<Weekday>,
    /// The local times of day a session must fit in.
    pub time_window: Option<TimeWindow>,
    /// Offered before the others.
    pub urgent: bool,
    /// The patient's later session an offer moves earlier (a new session is booked when
    /// absent). The entry expires when it starts.
    pub session_id: Option<Uuid>,
    pub source: EntrySource,
    pub status: EntryStatus,
    /// The session an accepted offer booked or moved.
    pub booked_session_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it stopped waiting.
    pub ended_at: Option<DateTime<Utc>>,
}

impl From<Entry> for WaitlistEntry {
    fn from(row: Entry) -> Self {
        Self {
            weekdays: fit::weekdays_of(&row),
            time_window: fit::window_of(&row),
            id: row.id,
            patient_id: row.patient_id,
            treatment_area_id: row.treatment_area_id,
            kind: row.kind,
            provider_id: row.provider_id,
            location_id: row.location_id,
            earliest: row.earliest,
            latest: row.latest,
            urgent: row.urgent,
            session_id: row.session_id,
            source: row.source,
            status: row.status,
            booked_session_id: row.booked_session_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            ended_at: row.ended_at,
        }
    }
}

/// An offer made to the entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryOffer {
    pub id: Uuid,
    pub status: OfferStatus,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was accepted, taken, closed or expired.
    pub resolved_at: Option<DateTime<Utc>>,
    /// For an accepted offer: the session booked or moved.
    pub session_id: Option<Uuid>,
}

impl From<Offer> for EntryOffer {
    fn from(row: Offer) -> Self {
        Self {
            id: row.id,
            status: row.status,
            provider_id: row.provider_id,
            location_id: row.location_id,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            created_at: row.created_at,
            expires_at: row.expires_at,
            resolved_at: row.resolved_at,
            session_id: row.session_id,
        }
    }
}

/// One step of an entry's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryHistory {
    pub action: HistoryAction,
    pub actor: Actor,
    pub offer_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

impl From<HistoryEntry> for EntryHistory {
    fn from(row: HistoryEntry) -> Self {
        Self {
            action: row.action,
            actor: row.actor,
            offer_id: row.offer_id,
            occurred_at: row.occurred_at,
        }
    }
}

/// An entry with its offers (newest first) and its history (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntryDetails {
    #[serde(flatten)]
    pub entry: WaitlistEntry,
    pub offers: Vec<EntryOffer>,
    pub history: Vec<EntryHistory>,
}

impl From<EntryView> for WaitlistEntryDetails {
    fn from(view: EntryView) -> Self {
        Self {
            entry: view.entry.into(),
            offers: view.offers.into_iter().map(Into::into).collect(),
            history: view.history.into_iter().map(Into::into).collect(),
        }
    }
}

/// A patient to put on the list.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "patient_id": "01a2208c-c469-72e6-a438-057e659075a8",
    "treatment_area_id": "01a2208c-c469-72e6-a438-057e659075a9",
    "kind": "injection",
    "weekdays": ["tuesday", "thursday"],
    "time_window": {"start": "08:00", "end": "12:00"},
    "latest": "2027-03-31T00:00:00-06:00",
    "session_id": "01a2208c-c469-72e6-a438-057e659075aa"
}))]
pub struct CreateEntry {
    #[garde(skip)]
    pub patient_id: Uuid,
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub kind: SessionKind,
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub location_id: Option<Uuid>,
    /// RFC 3339 with an offset.
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub earliest: Option<DateTime<Utc>>,
    /// RFC 3339 with an offset, in the future and after `earliest`.
    #[serde(default, deserialize_with = "rules::optional_instant")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub latest: Option<DateTime<Utc>>,
    /// Any weekday when absent or empty.
    #[serde(default)]
    #[garde(length(max = 7))]
    #[schema(max_items = 7)]
    pub weekdays: Vec<Weekday>,
    #[garde(custom(window_order))]
    pub time_window: Option<TimeWindow>,
    #[serde(default)]
    #[garde(skip)]
    pub urgent: bool,
    /// The patient's later session (upcoming, of this area and kind) to move earlier.
    #[garde(skip)]
    pub session_id: Option<Uuid>,
}

fn window_order(window: &Option<TimeWindow>, _: &()) -> garde::Result {
    match window {
        Some(window) if window.start >= window.end => {
            Err(rules::beyond_schema("start must be before end"))
        }
        _ => Ok(()),
    }
}

fn optional_window_order(window: &Option<Option<TimeWindow>>, _: &()) -> garde::Result {
    window_order(&window.flatten(), &())
}

/// Wishes to change; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"urgent": true, "time_window": null}))]
pub struct UpdateEntry {
    #[serde(default, deserialize_with = "rules::nullable")]
    #[schema(value_type = Option<Uuid>)]
    #[garde(skip)]
    pub provider_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[schema(value_type = Option<Uuid>)]
    #[garde(skip)]
    pub location_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable_instant")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub earliest: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable_instant")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[garde(skip)]
    pub latest: Option<Option<DateTime<Utc>>>,
    #[garde(inner(length(max = 7)))]
    #[schema(max_items = 7)]
    pub weekdays: Option<Vec<Weekday>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[schema(value_type = Option<TimeWindow>)]
    #[garde(custom(optional_window_order))]
    pub time_window: Option<Option<TimeWindow>>,
    #[garde(skip)]
    pub urgent: Option<bool>,
}

fn nullable_instant<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
    rules::optional_instant(deserializer).map(Some)
}

/// Filters of the list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    #[garde(skip)]
    pub status: Option<EntryStatus>,
    #[garde(skip)]
    pub treatment_area_id: Option<Uuid>,
    #[garde(skip)]
    pub patient_id: Option<Uuid>,
}

/// Put a patient on the waitlist
///
/// When a time frees (a cancellation, a move away) that fits the entry — its provider and
/// location if named, its dates, weekdays and time window, its session's course window, the
/// rooms and devices it needs, the patient's other sessions — the first in line (urgent ones
/// first, then the longest waiting) get an offer by email. With `session_id`, accepting moves
/// that session earlier; without, it books a new one.
#[utoipa::path(
    tag = "waitlist",
    security(("bearer" = [])),
    request_body = CreateEntry,
    responses(
        (status = 201, description = "On the list", body = WaitlistEntry, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The session is on the list already (`duplicate`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/waitlist")]
pub async fn create_waitlist_entry(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    Json(body): Json<CreateEntry>,
) -> Result<HttpResponse, AppError> {
    let command = Join {
        patient_id: body.patient_id,
        treatment_area_id: body.treatment_area_id,
        kind: body.kind,
        provider_id: body.provider_id,
        location_id: body.location_id,
        earliest: body.earliest,
        latest: body.latest,
        weekdays: body.weekdays,
        time_window: body.time_window,
        urgent: body.urgent,
        session_id: body.session_id,
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::join(conn, &caller, command, EntrySource::Staff, now).await
        })
        .await?;
    let version = row.version;
    let entry = WaitlistEntry::from(row);
    Ok(created(
        format!("/v1/waitlist/{}", entry.id),
        &entry,
        version,
    ))
}

/// List the waitlist
///
/// Oldest first; filter by `status` (`waiting` for those still waiting), treatment area and
/// patient.
#[utoipa::path(
    tag = "waitlist",
    security(("bearer" = [])),
    params(PageQuery, EntryQuery),
    responses(
        (status = 200, description = "One page of entries", body = Page<WaitlistEntry>),
        (status = 400, response = BadRequest),
        AuthErrors, ServerErrors,
    )
)]
#[get("/waitlist")]
pub async fn list_waitlist(
    _caller: StaffKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<EntryQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let filter = EntryFilter {
        status: query.status,
        treatment_area_id: query.treatment_area_id,
        patient_id: query.patient_id,
    };
    let mut conn = state.conn().await?;
    let rows = model::list(&mut conn, &filter, request).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |row| row.id,
        WaitlistEntry::from,
    )))
}

/// Get a waitlist entry
///
/// With its offers (newest first) and its history (oldest first).
#[utoipa::path(
    tag = "waitlist",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = WaitlistEntryDetails, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/waitlist/{id}")]
pub async fn get_waitlist_entry(
    _caller: StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let view = app::view(&mut conn, *id).await?;
    let version = view.entry.version;
    Ok(ok_tagged(&WaitlistEntryDetails::from(view), version))
}

/// Change a waitlist entry
///
/// Requires `If-Match`. Only a waiting entry changes; an entry for a session keeps the
/// session's provider and location.
#[utoipa::path(
    tag = "waitlist",
    security(("bearer" = [])),
    request_body = UpdateEntry,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The changed entry", body = WaitlistEntry, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, description = "The entry no longer waits (`invalid-transition`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/waitlist/{id}")]
pub async fn update_waitlist_entry(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<UpdateEntry>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let change = Change {
        provider_id: body.provider_id,
        location_id: body.location_id,
        earliest: body.earliest,
        latest: body.latest,
        weekdays: body.weekdays,
        time_window: body.time_window,
        urgent: body.urgent,
    };
    let (id, now) = (*id, state.now());
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::update(conn, &caller, id, expected, change, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&WaitlistEntry::from(row), version))
}

/// Take a patient off the waitlist
///
/// Its open offers close. `If-Match` is optional.
#[utoipa::path(
    tag = "waitlist",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag, to cancel only that version")),
    responses(
        (status = 200, description = "Cancelled", body = WaitlistEntry, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "The entry no longer waits (`invalid-transition`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/waitlist/{id}/cancel")]
pub async fn cancel_waitlist_entry(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.optional();
    let (id, now) = (*id, state.now());
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            app::cancel(conn, &caller, id, expected, now).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&WaitlistEntry::from(row), version))
}
