//! Notifications to patients, for the front desk: `/v1/notifications`. Audited like the
//! patient data they are about; an integration key sees where each stands, not what it says.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::notifications::read;
use crate::domain::notifications::{Channel, NotificationKind, NotificationStatus, SkipReason};
use crate::error::AppError;
use crate::http::auth::{ReaderKey, StaffKey};
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::*;
use crate::http::state::AppState;
use crate::models::notifications::{self as model, NotificationFilter};

/// A message to a patient, planned from a change to their sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub status: NotificationStatus,
    pub patient_id: Uuid,
    /// The session it is about (absent for `course_booked`).
    pub session_id: Option<Uuid>,
    /// The course, for `course_booked`.
    pub course_id: Option<Uuid>,
    /// When it goes (or went, or would have gone).
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Sends tried so far.
    pub attempts: i32,
    /// For a reminder: minutes before the start.
    #[schema(example = 1440)]
    pub offset_minutes: Option<i32>,
    /// The mail server's last refusal (not shown to integration keys).
    #[schema(example = "SMTP 451: mailbox busy")]
    pub last_error: Option<String>,
    /// Why it was skipped.
    pub skip_reason: Option<SkipReason>,
    /// The notification this one sends again.
    pub resend_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Notification> for Notification {
    fn from(row: model::Notification) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            channel: row.channel,
            status: row.status,
            patient_id: row.patient_id,
            session_id: row.session_id,
            course_id: row.course_id,
            due_at: row.due_at,
            sent_at: row.sent_at,
            attempts: row.attempts,
            offset_minutes: row.offset_minutes,
            last_error: row.last_error,
            skip_reason: row.skip_reason,
            resend_of: row.resend_of,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A notification with its subject.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDetail {
    #[serde(flatten)]
    pub notification: Notification,
    /// The subject as sent, or as it would be sent now (not shown to integration keys).
    #[schema(
        example = "Booked: your injection appointment on Wednesday 6 January 2027, 10:00 (Europe/London, GMT)"
    )]
    pub subject: Option<String>,
}

/// Filters of the notification list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    #[garde(skip)]
    pub patient_id: Option<Uuid>,
    #[garde(skip)]
    pub session_id: Option<Uuid>,
    #[garde(skip)]
    pub status: Option<NotificationStatus>,
    #[garde(skip)]
    pub kind: Option<NotificationKind>,
}

/// List notifications
///
/// Oldest first. Staff see everything; an integration key sees statuses without subjects or
/// errors.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(PageQuery, NotificationQuery),
    responses(
        (status = 200, description = "One page of notifications", body = Page<Notification>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/notifications")]
pub async fn list_notifications(
    ReaderKey(caller): ReaderKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<NotificationQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let filter = NotificationFilter {
        patient_id: query.patient_id,
        session_id: query.session_id,
        status: query.status,
        kind: query.kind,
    };
    let mut conn = state.conn().await?;
    let rows = conn
        .transaction::<_, AppError, _>(async |conn| {
            read::list(conn, &caller, &filter, request).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |row| row.id,
        Notification::from,
    )))
}

/// Get a notification
///
/// With its subject: as sent, or as it would be sent now.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notification", body = NotificationDetail),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/notifications/{id}")]
pub async fn get_notification(
    ReaderKey(caller): ReaderKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (*id, state.now());
    let mut conn = state.conn().await?;
    let (row, subject) = conn
        .transaction::<_, AppError, _>(async |conn| {
            read::get(conn, &caller, &state.outbox, id, now).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(NotificationDetail {
        notification: row.into(),
        subject,
    }))
}

/// Resend a notification
///
/// Queues the same message again as a new notification, due now (or when quiet hours end),
/// for one that was sent or failed. Each call queues one more.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The new notification, queued", body = Notification, headers(("Location" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = UnprocessableValues),
        AuthErrors, ServerErrors,
    )
)]
#[post("/notifications/{id}/resend")]
pub async fn resend_notification(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (*id, state.now());
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| read::resend(conn, &caller, id, now).await)
        .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/notifications/{}", row.id),
        ))
        .json(Notification::from(row)))
}
