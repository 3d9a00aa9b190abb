//! `/v1/manage/{token}`: the patient's own session through the link they were given. `GET`
//! shows it and changes nothing (mail scanners follow links); `POST …/cancel` and
//! `POST …/reschedule` change it, outside the clinic's late-change window. An unknown token
//! and a dead link are the same 404.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::calendar::SessionView;
use crate::app::online::manage::{self, Managed};
use crate::domain::sessions::{CancelReason, SessionKind, SessionStatus};
use crate::error::AppError;
use crate::http::auth::TokenHolder;
use crate::http::extract::Json;
use crate::http::problems::*;
use crate::http::state::AppState;

/// A token as links carry it: 64 lowercase hex characters; anything else is not found.
pub fn well_formed<'a>(token: &'a str, what: &'static str) -> Result<&'a str, AppError> {
    match token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        true => Ok(token),
        false => Err(AppError::NotFound(what)),
    }
}

/// A named place or person of the session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    pub id: Uuid,
    #[schema(example = "Denver Clinic")]
    pub name: String,
}

/// The session as its patient sees it through the link.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManagedSession {
    pub id: Uuid,
    pub kind: SessionKind,
    pub status: SessionStatus,
    /// In the location's time zone, with its offset.
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:00:00-06:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:45:00-06:00")]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(example = "America/Denver")]
    pub time_zone: String,
    pub location: Named,
    #[schema(example = "1 Main St, Denver")]
    pub address: Option<String>,
    pub provider: Named,
    pub treatment_area: Named,
    /// Whether the link may still cancel the session.
    pub can_cancel: bool,
    /// Whether the link may still move the session (to a slot held with the same provider,
    /// location and kind).
    pub can_reschedule: bool,
    /// The last moment a change is taken online; after it, the clinic's phone.
    #[schema(value_type = String, format = DateTime, example = "2027-03-14T09:00:00-06:00")]
    pub change_until: DateTime<FixedOffset>,
}

impl From<Managed> for ManagedSession {
    fn from(managed: Managed) -> Self {
        let Managed {
            row,
            place,
            allowed,
        } = managed;
        let zone = place.zone;
        let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).fixed_offset();
        Self {
            id: row.id,
            kind: row.kind,
            status: row.status,
            starts_at: local(row.starts_at),
            ends_at: local(row.ends_at),
            time_zone: zone.name().to_owned(),
            location: Named {
                id: place.location.id,
                name: place.location.name,
            },
            address: place.location.address,
            provider: Named {
                id: place.provider.id,
                name: place.provider.name,
            },
            treatment_area: Named {
                id: place.area.id,
                name: place.area.name,
            },
            can_cancel: allowed.cancel,
            can_reschedule: allowed.reschedule,
            change_until: local(allowed.change_until),
        }
    }
}

/// Show a managed session
///
/// The time, the place, the provider, the status, and what the patient may still do. Reading
/// it changes nothing.
#[utoipa::path(
    tag = "online booking",
    params(("token" = String, Path, description = "The token of the manage link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The session", body = ManagedSession),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/manage/{token}")]
pub async fn get_managed(
    _caller: TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token, "manage link")?;
    let mut conn = state.conn().await?;
    let managed = manage::view(&mut conn, token, state.now()).await?;
    Ok(private(ManagedSession::from(managed)))
}

/// A link's answers are the patient's alone: never cached, never referred.
pub fn private(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .json(body)
}

/// Why the patient cancels.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason_code": "feeling_better"}))]
pub struct CancelManaged {
    /// One of the patient's reasons: `patient_request`, `feeling_better`, `condition_worse`,
    /// `illness`, `other`.
    #[garde(custom(patients_reason))]
    pub reason_code: CancelReason,
}

fn patients_reason(reason: &CancelReason, _: &()) -> garde::Result {
    match reason {
        CancelReason::ProviderUnavailable | CancelReason::ClinicClosure => Err(
            crate::http::rules::beyond_schema("is the clinic's reason, not a patient's"),
        ),
        _ => Ok(()),
    }
}

/// Cancel a managed session
///
/// Cancels the session, as the front desk would (history, event, the patient's notice), if it
/// starts after the late-change window; inside it, 422 `too-late-to-change` with the clinic's
/// phone number in `detail`. The link dies with it.
#[utoipa::path(
    tag = "online booking",
    request_body = CancelManaged,
    params(("token" = String, Path, description = "The token of the manage link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "Cancelled", body = ManagedSession),
        (status = 404, response = NotFound),
        (status = 422, description = "`too-late-to-change` (the clinic's phone number is in `detail`), or `unprocessable-values` (a reason that is the clinic's)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/manage/{token}/cancel")]
pub async fn cancel_managed(
    TokenHolder(caller): TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
    Json(body): Json<CancelManaged>,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token, "manage link")?.to_owned();
    let now = state.now();
    let mut conn = state.conn().await?;
    let view = conn
        .transaction::<_, AppError, _>(async |conn| {
            manage::cancel(conn, &caller, &token, body.reason_code, now).await
        })
        .await?;
    Ok(private(shown(&mut conn, view, &state).await?))
}

/// The session after a change, as the link shows it (read with the change committed).
async fn shown(
    conn: &mut crate::db::DbConn,
    view: SessionView,
    state: &AppState,
) -> Result<ManagedSession, AppError> {
    let managed = manage::managed(conn, view.row, state.now()).await?;
    Ok(ManagedSession::from(managed))
}

/// The session's place on the waitlist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistPlace {
    pub id: Uuid,
    pub status: crate::domain::waitlist::EntryStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Ask for an earlier time
///
/// Puts the session on the clinic's waitlist: when an earlier time with the same provider
/// and place frees (inside a course's interval window), an offer comes by email, and taking
/// it moves this session there. Doing nothing keeps the session as it is.
#[utoipa::path(
    tag = "online booking",
    params(("token" = String, Path, description = "The token of the manage link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 201, description = "On the waitlist", body = WaitlistPlace),
        (status = 404, response = NotFound),
        (status = 409, description = "`duplicate`: the session is on the waitlist already", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        PublicErrors, ServerErrors,
    )
)]
#[post("/manage/{token}/waitlist")]
pub async fn join_waitlist_managed(
    TokenHolder(caller): TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token, "manage link")?.to_owned();
    let now = state.now();
    let mut conn = state.conn().await?;
    let entry = conn
        .transaction::<_, AppError, _>(async |conn| {
            manage::join_waitlist(conn, &caller, &token, now).await
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(WaitlistPlace {
            id: entry.id,
            status: entry.status,
            created_at: entry.created_at,
        }))
}

/// A held slot to move to.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "hold_id": "01a220a8-0b00-7d1c-8f0e-6d2a1b3c4d5e",
    "hold_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}))]
pub struct RescheduleManaged {
    #[garde(skip)]
    pub hold_id: Uuid,
    #[garde(length(max = 128))]
    #[schema(max_length = 128)]
    pub hold_token: String,
}

/// The session moved (or booked) and its new link.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManagedMove {
    pub session: ManagedSession,
    /// The session's new link; the old one no longer works.
    pub manage_url: String,
}

/// Move a managed session
///
/// Moves the session (same id, with a history entry and the patient's notice) to a slot held
/// with `POST /v1/holds` for the same provider, location, area and kind, by the booking rules,
/// if it starts after the late-change window (else 422 `too-late-to-change`). The old link
/// dies; the answer carries the new one.
#[utoipa::path(
    tag = "online booking",
    request_body = RescheduleManaged,
    params(("token" = String, Path, description = "The token of the manage link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "Moved", body = ManagedMove),
        (status = 404, response = NotFound),
        (status = 409, description = "`hold-expired`, `slot-taken`, or `resource-unavailable`", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`too-late-to-change` (the clinic's phone number is in `detail`), a booking rule (`outside-working-hours`, `provider-on-time-off`, `too-short-notice`, `beyond-horizon`), or `unprocessable-values` (a hold for another provider, place or kind)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/manage/{token}/reschedule")]
pub async fn reschedule_managed(
    TokenHolder(caller): TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
    Json(body): Json<RescheduleManaged>,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token, "manage link")?.to_owned();
    let now = state.now();
    let mut conn = state.conn().await?;
    let (view, new_token) = conn
        .transaction::<_, AppError, _>(async |conn| {
            manage::move_to_hold(conn, &caller, &token, body.hold_id, &body.hold_token, now).await
        })
        .await?;
    let session = shown(&mut conn, view, &state).await?;
    Ok(private(ManagedMove {
        session,
        manage_url: super::manage_url(&state, &new_token),
    }))
}
