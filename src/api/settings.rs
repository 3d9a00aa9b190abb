//! The clinic's scheduling rules: `/v1/settings`.

use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::catalog;
use crate::error::AppError;
use crate::http::auth::{AdminKey, AnyKey};
use crate::http::conditional::{IfMatch, ok_tagged};
use crate::http::extract::Json;
use crate::http::problems::{
    AuthErrors, BodyErrors, PreconditionFailed, PreconditionRequired, ServerErrors,
};
use crate::http::state::AppState;
use crate::models::settings::{self as model, SettingsChanges};

/// The rules availability and booking follow.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClinicSettings {
    /// Slot starts align to this many minutes.
    #[schema(example = 15)]
    pub slot_step_minutes: i32,
    /// The earliest bookable start is this many minutes from now.
    #[schema(example = 720)]
    pub minimum_notice_minutes: i32,
    /// The latest bookable start is this many days from now.
    #[schema(example = 180)]
    pub booking_horizon_days: i32,
    /// Cancelling within this many hours of the start is a late cancellation.
    #[schema(example = 24)]
    pub late_cancellation_hours: i32,
    /// Minutes kept free after an injection session.
    #[schema(example = 10)]
    pub buffer_after_injection_minutes: i32,
    /// A patient may be checked in from this many minutes before the start until the end of
    /// the session's local day.
    #[schema(example = 120)]
    pub check_in_lead_minutes: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<model::ClinicSettings> for ClinicSettings {
    fn from(row: model::ClinicSettings) -> Self {
        Self {
            slot_step_minutes: row.slot_step_minutes,
            minimum_notice_minutes: row.minimum_notice_minutes,
            booking_horizon_days: row.booking_horizon_days,
            late_cancellation_hours: row.late_cancellation_hours,
            buffer_after_injection_minutes: row.buffer_after_injection_minutes,
            check_in_lead_minutes: row.check_in_lead_minutes,
            updated_at: row.updated_at,
        }
    }
}

/// Settings to change.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slot_step_minutes": 30, "minimum_notice_minutes": 1440}))]
pub struct UpdateSettings {
    #[garde(inner(range(min = 5, max = 240)))]
    #[schema(minimum = 5, maximum = 240)]
    pub slot_step_minutes: Option<i32>,
    #[garde(inner(range(min = 0, max = 43200)))]
    #[schema(minimum = 0, maximum = 43200)]
    pub minimum_notice_minutes: Option<i32>,
    #[garde(inner(range(min = 1, max = 730)))]
    #[schema(minimum = 1, maximum = 730)]
    pub booking_horizon_days: Option<i32>,
    #[garde(inner(range(min = 0, max = 336)))]
    #[schema(minimum = 0, maximum = 336)]
    pub late_cancellation_hours: Option<i32>,
    #[garde(inner(range(min = 0, max = 240)))]
    #[schema(minimum = 0, maximum = 240)]
    pub buffer_after_injection_minutes: Option<i32>,
    #[garde(inner(range(min = 0, max = 1440)))]
    #[schema(minimum = 0, maximum = 1440)]
    pub check_in_lead_minutes: Option<i32>,
}

/// Get the clinic settings
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    responses((status = 200, description = "The settings", body = ClinicSettings, headers(("ETag" = String))), AuthErrors, ServerErrors)
)]
#[get("/settings")]
pub async fn get_settings(
    _caller: AnyKey,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = model::get(&mut conn).await?;
    let version = row.version;
    Ok(ok_tagged(&ClinicSettings::from(row), version))
}

/// Update the clinic settings
///
/// Requires `If-Match` with the current `ETag`.
#[utoipa::path(
    tag = "settings",
    security(("bearer" = [])),
    request_body = UpdateSettings,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated settings", body = ClinicSettings, headers(("ETag" = String))),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/settings")]
pub async fn update_settings(
    _caller: AdminKey,
    state: web::Data<AppState>,
    if_match: IfMatch,
    Json(body): Json<UpdateSettings>,
) -> Result<HttpResponse, AppError> {
    let expected = if_match.required()?;
    let changes = SettingsChanges {
        slot_step_minutes: body.slot_step_minutes,
        minimum_notice_minutes: body.minimum_notice_minutes,
        booking_horizon_days: body.booking_horizon_days,
        late_cancellation_hours: body.late_cancellation_hours,
        buffer_after_injection_minutes: body.buffer_after_injection_minutes,
        check_in_lead_minutes: body.check_in_lead_minutes,
    };
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            catalog::update_settings(conn, expected, changes).await
        })
        .await?;
    let version = row.version;
    Ok(ok_tagged(&ClinicSettings::from(row), version))
}
