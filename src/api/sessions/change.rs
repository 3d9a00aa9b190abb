//! Changing a session: move it, confirm, check in, complete with the clinical record, record a
//! no-show, cancel. Each change is one transaction with its history entry and audit event.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{Duration, Utc};
use chrono_tz::Tz;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CancelReason, ClinicalRecord, Session, checked_facts, event, visible_to};
use crate::domain::sessions::{SessionKind, SessionStatus, visit_window};
use crate::error::{AppError, ProblemType};
use crate::http::auth::{AnyKey, Caller, StaffKey};
use crate::http::conditional::{Expected, IfMatch, ok_tagged};
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::state::AppState;
use crate::models::sessions::{self as model};
use crate::models::{audit_events, locations, settings};

/// A new time for a session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"starts_at": "2027-03-16T10:00:00-06:00", "reason": "Patient asked for a later day"}))]
pub struct Reschedule {
    /// RFC 3339 with an offset.
    #[garde(length(max = 64))]
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// Move even if a neighbouring session of the course falls outside its interval window
    /// (recorded as a warning on the course).
    #[serde(default)]
    #[garde(skip)]
    pub force: bool,
    /// Re-plan the course's later scheduled sessions so every interval window holds.
    #[serde(default)]
    #[garde(skip)]
    pub cascade: bool,
}

/// Why a session is cancelled.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason_code": "illness", "note": "Has the flu; will call back"}))]
pub struct Cancel {
    #[garde(skip)]
    pub reason_code: CancelReason,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Reschedule a session
///
/// Same id, a history entry with the old and new times. The new time passes every booking rule;
/// the session's own old time does not count against it. `If-Match` is honoured when sent;
/// `Idempotency-Key` makes retries safe.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = Reschedule,
    params(
        ("If-Match" = Option<String>, Header, description = "The current ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "The same key and body replay the first answer"),
    ),
    responses(
        (status = 200, description = "Moved", body = Session, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, description = "Taken, or the status does not allow a move", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 422, description = "A booking rule is broken", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/reschedule")]
pub async fn reschedule_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    req: HttpRequest,
    Json(body): Json<Reschedule>,
) -> Result<HttpResponse, AppError> {
    let start = super::parse_start(&body.starts_at)?;
    let expected = if_match.optional();
    let key = idempotency::key_from(&req)?;
    let (id, now) = (*id, state.now());
    let hash = idempotency::fingerprint(&(id, &body));
    let mut conn = state.conn().await?;
    let operation = "POST /v1/sessions/{id}/reschedule";
    let (answer, replayed) =
        idempotency::run_once(&mut conn, caller.key_id, key, operation, hash, now, || {
            let (body, caller) = (body.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let current = visible_to(&caller, model::find_for_update(conn, id).await?)?;
                    expected.check(current.version)?;
                    let status = status_of(&current);
                    if !status.may_reschedule() {
                        return Err(invalid_transition(status, "rescheduled"));
                    }
                    let kind = SessionKind::parse(&current.kind).unwrap_or(SessionKind::Assessment);
                    let ids = (
                        current.patient_id,
                        current.provider_id,
                        current.location_id,
                        current.treatment_area_id,
                    );
                    let (facts, span, held_until) =
                        checked_facts(conn, ids, kind, start, now).await?;
                    let mut cascaded = Vec::new();
                    if let Some(course_id) = current.course_id {
                        let zone: Tz = facts.time_zone.parse().unwrap_or(chrono_tz::UTC);
                        crate::api::courses::check_windows(
                            conn,
                            course_id,
                            &current,
                            span.start,
                            zone,
                            crate::api::courses::WindowRules {
                                force: body.force,
                                check_next: !body.cascade,
                            },
                            now,
                        )
                        .await?;
                        if body.cascade {
                            cascaded = crate::api::courses::cascade(
                                conn, course_id, &current, span, held_until, now,
                            )
                            .await?;
                        }
                    }
                    // Move in the direction of travel so no session steps on one not yet moved.
                    let mut moves = cascaded.clone();
                    moves.push((id, span.start, span.end, held_until));
                    moves.sort_by_key(|m| m.1);
                    if span.start > current.starts_at {
                        moves.reverse();
                    }
                    let mut moved = None;
                    for (session_id, starts_at, ends_at, held) in moves {
                        let row =
                            model::move_to(conn, session_id, starts_at, ends_at, held).await?;
                        if session_id == id {
                            moved = Some(row);
                        }
                    }
                    let moved = moved.ok_or(AppError::NotFound("session"))?;
                    for (session_id, starts_at, _, _) in &cascaded {
                        let mut entry = event(
                            &caller,
                            *session_id,
                            "rescheduled",
                            Some(SessionStatus::Scheduled),
                            SessionStatus::Scheduled,
                        );
                        entry.new_starts_at = Some(*starts_at);
                        entry.reason = Some(format!(
                            "moved with session {}",
                            current.course_number.unwrap_or(0)
                        ));
                        model::add_event(conn, entry).await?;
                    }
                    let mut entry = event(&caller, id, "rescheduled", Some(status), status);
                    entry.old_starts_at = Some(current.starts_at);
                    entry.new_starts_at = Some(moved.starts_at);
                    entry.reason = body.reason.clone();
                    model::add_event(conn, entry).await?;
                    let audit = caller
                        .audit("session.reschedule", "sessions", Some(id), 200)
                        .patient(moved.patient_id);
                    audit_events::append(conn, audit).await?;
                    let zone: Tz = facts.time_zone.parse().unwrap_or(chrono_tz::UTC);
                    let session = Session::from_row(moved, zone, None);
                    Ok(Answer {
                        status: StatusCode::OK,
                        location: None,
                        etag: Some(crate::http::conditional::etag(session.version)),
                        body: serde_json::to_value(&session)
                            .map_err(|e| AppError::Internal(Box::new(e)))?,
                    })
                })
            }
        })
        .await?;
    Ok(answer.respond(replayed))
}

/// Cancel a session
///
/// The time is freed at once. Inside the clinic's late-cancellation window the session is
/// flagged `late_cancellation`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = Cancel,
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Cancelled", body = Session, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/cancel")]
pub async fn cancel_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<Cancel>,
) -> Result<HttpResponse, AppError> {
    let change = Change::Cancel {
        reason: body.reason_code,
        note: body.note,
    };
    change_status(
        &state,
        &caller,
        *id,
        if_match.optional(),
        SessionStatus::Cancelled,
        change,
    )
    .await
}

/// Confirm a session
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Confirmed", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/confirm")]
pub async fn confirm_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_status(
        &state,
        &caller,
        *id,
        if_match.optional(),
        SessionStatus::Confirmed,
        Change::Plain,
    )
    .await
}

/// Check a patient in
///
/// From the clinic's `check_in_lead_minutes` before the start until the end of the session's
/// local day (422 `outside-visit-window` otherwise).
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Checked in", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = OutsideVisitWindow),
        AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/check-in")]
pub async fn check_in_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_status(
        &state,
        &caller,
        *id,
        if_match.optional(),
        SessionStatus::CheckedIn,
        Change::Plain,
    )
    .await
}

/// Record a no-show
///
/// Only once the session's start has passed.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Recorded as no-show", body = Session, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = TooEarly),
        AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/no-show")]
pub async fn no_show_session(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    change_status(
        &state,
        &caller,
        *id,
        if_match.optional(),
        SessionStatus::NoShow,
        Change::Plain,
    )
    .await
}

/// Complete a session with its clinical record
///
/// Staff, or the session's own provider, once the start has passed (422
/// `outside-visit-window` before). The record is personal health information.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    request_body = ClinicalRecord,
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "Completed", body = Session, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = OutsideVisitWindow),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/sessions/{id}/complete")]
pub async fn complete_session(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(record): Json<ClinicalRecord>,
) -> Result<HttpResponse, AppError> {
    change_status(
        &state,
        &caller,
        *id,
        if_match.optional(),
        SessionStatus::Completed,
        Change::Complete(record),
    )
    .await
}

/// What a status change carries besides the status.
enum Change {
    Plain,
    Cancel {
        reason: CancelReason,
        note: Option<String>,
    },
    Complete(ClinicalRecord),
}

fn status_of(row: &model::Session) -> SessionStatus {
    SessionStatus::parse(&row.status).unwrap_or(SessionStatus::Scheduled)
}

fn invalid_transition(current: SessionStatus, wanted: &str) -> AppError {
    AppError::Problem(
        ProblemType::InvalidTransition,
        format!("the session is {}; it cannot be {wanted}", current.as_str()),
    )
}

async fn change_status(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    next: SessionStatus,
    change: Change,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let mut conn = state.conn().await?;
    let (row, record, zone) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = visible_to(caller, model::find_for_update(conn, id).await?)?;
            expected.check(current.version)?;
            let status = status_of(&current);
            if !status.may_become(next) {
                return Err(invalid_transition(status, next.as_str()));
            }
            let zone = zone_of(conn, current.location_id).await?;
            check_moment(conn, &current, next, zone, now).await?;
            let (row, record) = apply(conn, caller, &current, status, next, change, now).await?;
            Ok((row, record, zone))
        })
        .await?;
    let session = Session::from_row(row, zone, record);
    Ok(ok_tagged(&session, session.version))
}

async fn zone_of(conn: &mut AsyncPgConnection, location_id: Uuid) -> Result<Tz, AppError> {
    let zones = locations::time_zones(conn, &[location_id]).await?;
    Ok(zones.get(&location_id).copied().unwrap_or(chrono_tz::UTC))
}

/// Refuses a check-in, completion or no-show outside its moment of the visit.
async fn check_moment(
    conn: &mut AsyncPgConnection,
    current: &model::Session,
    next: SessionStatus,
    zone: Tz,
    now: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    let lead = match next {
        SessionStatus::CheckedIn => settings::get(conn).await?.check_in_lead_minutes,
        _ => 0,
    };
    let lead = Duration::minutes(i64::from(lead));
    let Some(window) = visit_window(next, current.starts_at, zone, lead) else {
        return Ok(());
    };
    if window.contains(now) {
        return Ok(());
    }
    let local = |at: chrono::DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
    Err(match next {
        SessionStatus::NoShow => AppError::Problem(
            ProblemType::TooEarly,
            "a no-show can be recorded only once the session has started".into(),
        ),
        _ => AppError::OutsideVisitWindow {
            step: match next {
                SessionStatus::CheckedIn => "a check-in",
                _ => "a completion",
            },
            from: local(window.from),
            until: window.until.map(local),
        },
    })
}

async fn apply(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    current: &model::Session,
    status: SessionStatus,
    next: SessionStatus,
    change: Change,
    now: chrono::DateTime<Utc>,
) -> Result<(model::Session, Option<model::ClinicalRecord>), AppError> {
    let mut entry = event(caller, current.id, next.as_str(), Some(status), next);
    let mut record = None;
    let cancellation = match change {
        Change::Cancel { reason, note } => {
            let window = Duration::hours(i64::from(
                settings::get(conn).await?.late_cancellation_hours,
            ));
            let late = current.starts_at - now < window;
            entry.reason = Some(match &note {
                Some(note) => format!("{}: {note}", reason.as_str()),
                None => reason.as_str().to_owned(),
            });
            Some((reason.as_str().to_owned(), note, late))
        }
        Change::Complete(clinical) => {
            let row = model::ClinicalRecord {
                session_id: current.id,
                pain_before: clinical.pain_before,
                pain_after: clinical.pain_after,
                function_score: clinical.function_score,
                injectate: clinical.injectate,
                volume_ml: clinical.volume_ml,
                sites: clinical.sites,
                adverse_events: serde_json::to_value(&clinical.adverse_events).unwrap_or_default(),
                note: clinical.note,
                recorded_by: Some(caller.key_id),
                recorded_at: now,
            };
            model::add_record(conn, row.clone()).await?;
            record = Some(row);
            None
        }
        Change::Plain => None,
    };
    let row = model::set_status(conn, current.id, next, cancellation).await?;
    model::add_event(conn, entry).await?;
    if let (SessionStatus::Completed, Some(course_id)) = (next, row.course_id) {
        crate::api::courses::after_session_completed(conn, course_id).await?;
    }
    let action = format!("session.{}", next.as_str());
    let audit = caller
        .audit(&action, "sessions", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    Ok((row, record))
}
