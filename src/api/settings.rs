//! The clinic's scheduling rules: `/v1/settings`.

use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::catalog;
use crate::domain::notifications::QuietHours;
use crate::error::AppError;
use crate::http::auth::{AdminKey, AnyKey};
use crate::http::conditional::{IfMatch, ok_tagged};
use crate::http::extract::Json;
use crate::http::problems::{
    AuthErrors, BodyErrors, PreconditionFailed, PreconditionRequired, ServerErrors,
    UnprocessableValues,
};
use crate::http::rules;
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
    /// Reminders go this many minutes before each session (one per entry).
    #[schema(example = json!([1440, 120]))]
    pub reminder_offsets_minutes: Vec<i32>,
    /// Hours in which no message is sent, in each location's zone (`null`: none).
    pub quiet_hours: Option<QuietHours>,
    /// The clinic's name in messages and their `From` header.
    #[schema(example = "Front Range Prolotherapy")]
    pub sender_name: Option<String>,
    /// Where replies to messages go.
    #[schema(example = "frontdesk@clinic.example")]
    pub reply_to: Option<String>,
    /// Minutes an online booking holds its slot before the visitor books it.
    #[schema(example = 10)]
    pub hold_minutes: i32,
    /// The clinic's phone number, given to patients whom the online booking cannot help
    /// (a change too close to the session).
    #[schema(example = "+1 303 555 0100")]
    pub phone: Option<String>,
    /// Whether providers' calendar feeds name patients in full; by default only their
    /// initials (a feed is read by calendar apps outside the clinic).
    pub feed_full_names: bool,
    /// How many waiting patients a freed time is offered to at once.
    #[schema(example = 3)]
    pub waitlist_offer_count: i32,
    /// Minutes a waitlist offer can be accepted in.
    #[schema(example = 30)]
    pub waitlist_offer_minutes: i32,
    /// Minutes a freed time settles before it is offered (a cancellation rebooked at the desk
    /// at once offers nothing).
    #[schema(example = 2)]
    pub waitlist_debounce_minutes: i32,
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
            quiet_hours: row.quiet_hours(),
            reminder_offsets_minutes: row.reminder_offsets_minutes,
            sender_name: row.sender_name,
            reply_to: row.reply_to,
            hold_minutes: row.hold_minutes,
            phone: row.phone,
            feed_full_names: row.feed_full_names,
            waitlist_offer_count: row.waitlist_offer_count,
            waitlist_offer_minutes: row.waitlist_offer_minutes,
            waitlist_debounce_minutes: row.waitlist_debounce_minutes,
            updated_at: row.updated_at,
        }
    }
}

/// Settings to change.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slot_step_minutes": 30, "reminder_offsets_minutes": [2880, 120], "quiet_hours": {"start": "20:00", "end": "08:30"}}))]
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
    /// Up to five distinct offsets, each from 1 minute to 14 days; `[]` sends no reminders.
    /// Sessions booked from now on follow them; reminders already planned keep theirs.
    #[garde(inner(length(max = 5), inner(range(min = 1, max = 20160)), custom(distinct)))]
    #[schema(value_type = Option<Vec<OffsetMinutes>>, max_items = 5, example = json!([2880, 120]))]
    pub reminder_offsets_minutes: Option<Vec<i32>>,
    /// `null` turns quiet hours off.
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(quiet_hours_span))]
    #[schema(value_type = Option<QuietHours>)]
    pub quiet_hours: Option<Option<QuietHours>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(custom(rules::nullable_text::<100>), custom(plain_name))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, format = "name")]
    pub sender_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(inner(inner(custom(rules::email))))]
    #[schema(value_type = Option<String>, format = "email")]
    pub reply_to: Option<Option<String>>,
    #[garde(inner(range(min = 1, max = 60)))]
    #[schema(minimum = 1, maximum = 60)]
    pub hold_minutes: Option<i32>,
    #[serde(default, deserialize_with = "rules::nullable")]
    #[garde(inner(inner(custom(rules::phone))))]
    #[schema(value_type = Option<String>, max_length = 32, example = "+1 303 555 0100")]
    pub phone: Option<Option<String>>,
    #[garde(skip)]
    pub feed_full_names: Option<bool>,
    #[garde(inner(range(min = 1, max = 10)))]
    #[schema(minimum = 1, maximum = 10)]
    pub waitlist_offer_count: Option<i32>,
    #[garde(inner(range(min = 5, max = 1440)))]
    #[schema(minimum = 5, maximum = 1440)]
    pub waitlist_offer_minutes: Option<i32>,
    #[garde(inner(range(min = 0, max = 60)))]
    #[schema(minimum = 0, maximum = 60)]
    pub waitlist_debounce_minutes: Option<i32>,
}

/// The schema of one reminder offset: minutes before a session, 1 to 20,160 (14 days).
struct OffsetMinutes;

impl utoipa::PartialSchema for OffsetMinutes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int32,
            )))
            .minimum(Some(1))
            .maximum(Some(20160))
            .into()
    }
}

impl ToSchema for OffsetMinutes {}

fn quiet_hours_span(value: &Option<Option<QuietHours>>, _: &()) -> garde::Result {
    match value {
        Some(Some(quiet)) if quiet.start == quiet.end => Err(rules::beyond_schema(
            "start and end must differ (null turns quiet hours off)",
        )),
        _ => Ok(()),
    }
}

/// A name for a `From` header: a name's form (not blank, no control characters or bidi
/// overrides), as the document's `name` pattern says.
fn plain_name(value: &Option<Option<String>>, _: &()) -> garde::Result {
    match value {
        Some(Some(name)) => rules::name(name, &()),
        _ => Ok(()),
    }
}

fn distinct(offsets: &[i32], _: &()) -> garde::Result {
    let mut seen = std::collections::HashSet::new();
    if offsets.iter().all(|o| seen.insert(o)) {
        Ok(())
    } else {
        Err(rules::beyond_schema("lists an offset twice"))
    }
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
    let conn = state.conn().await?;
    let row = model::get(&conn).await?;
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
        (status = 422, response = UnprocessableValues),
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
        reminder_offsets_minutes: body.reminder_offsets_minutes,
        quiet_hours_start: body.quiet_hours.map(|q| q.map(|q| q.start.time())),
        quiet_hours_end: body.quiet_hours.map(|q| q.map(|q| q.end.time())),
        sender_name: body
            .sender_name
            .map(|name| name.map(|n| n.trim().to_owned())),
        reply_to: body.reply_to,
        hold_minutes: body.hold_minutes,
        phone: body.phone.map(|phone| phone.map(|p| p.trim().to_owned())),
        feed_full_names: body.feed_full_names,
        waitlist_offer_count: body.waitlist_offer_count,
        waitlist_offer_minutes: body.waitlist_offer_minutes,
        waitlist_debounce_minutes: body.waitlist_debounce_minutes,
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
