//! Treatment courses: `/v1/courses`. Plan a whole course, book it in one transaction, read
//! where it stands.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::sessions::{Session, event, parse_instant_field};
use super::treatment_areas::IntervalDays;
use crate::domain::courses::{CourseStatus, Progress, SessionSummary, Side, progress};
use crate::domain::planning::{
    IntervalWindow, Plan, PlanInput, Preferences, after_assessment, plan,
};
use crate::domain::sessions::{SessionKind, SessionStatus};
use crate::domain::slots::Span;
use crate::domain::time::{WallTime, Weekday};
use crate::domain::working_hours::WeeklyInterval;
use crate::error::{AppError, ProblemType};
use crate::http::auth::{AnyKey, Caller, StaffKey};
use crate::http::conditional::ok_tagged;
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, Answer};
use crate::http::pagination::{Page, PageQuery};
use crate::http::problems::*;
use crate::http::state::AppState;
use crate::models::courses::{self as model, CourseFilter, NewCourse};
use crate::models::sessions::{self as sessions_model, NewSession};
use crate::models::{
    audit_events, locations, patients, providers, settings, treatment_areas, working_hours,
};

/// Local times of day that suit the patient.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub start: WallTime,
    pub end: WallTime,
}

/// What course to plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[schema(example = json!({
    "patient_id": "01a220c2-bf9f-75de-96de-231584424d05",
    "treatment_area_id": "01a2208c-c46a-701a-b5aa-02f50e68e680",
    "location_id": "01a2208c-c469-72e6-a438-057e659075a7",
    "sessions": 4,
    "interval_days": {"min": 21, "target": 28, "max": 42},
    "first_starts_at": "2027-03-15T09:00:00-06:00"
}))]
pub struct PlanCourse {
    #[garde(skip)]
    pub patient_id: Uuid,
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub location_id: Uuid,
    /// One provider; absent: the first provider of the area at the location who fits every session.
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    /// How many sessions, 1 to 50.
    #[garde(range(min = 1, max = 50))]
    #[schema(minimum = 1, maximum = 50)]
    pub sessions: u32,
    /// Days between sessions; absent: the treatment area's.
    #[garde(dive)]
    pub interval_days: Option<IntervalDays>,
    /// The first session's start (RFC 3339 with offset); absent: the earliest fitting slot.
    #[garde(inner(length(max = 64)))]
    #[schema(format = DateTime)]
    pub first_starts_at: Option<String>,
    /// The kind of every session; injections unless said otherwise.
    #[garde(skip)]
    pub kind: Option<SessionKind>,
    #[garde(inner(length(max = 7)))]
    #[schema(max_items = 7)]
    pub preferred_weekdays: Option<Vec<Weekday>>,
    #[garde(skip)]
    pub preferred_time_window: Option<TimeWindow>,
}

/// A proposed session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposedSession {
    pub number: u32,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<chrono::FixedOffset>,
}

/// A session the planner could not place.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnplacedSession {
    pub number: u32,
    #[schema(example = "no free slot between 2027-04-05 and 2027-04-26")]
    pub reason: String,
}

/// A proposal; nothing is written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoursePlan {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub sessions: Vec<ProposedSession>,
    pub unplaced: Vec<UnplacedSession>,
}

/// A course to create; with `book: true` every session is booked too, all or nothing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
pub struct CreateCourse {
    #[serde(flatten)]
    #[garde(dive)]
    pub plan: PlanCourse,
    #[garde(skip)]
    pub side: Side,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub goal: Option<String>,
    /// Pain 0–10 before the course.
    #[garde(inner(range(min = 0, max = 10)))]
    #[schema(minimum = 0, maximum = 10)]
    pub baseline_pain: Option<i16>,
    /// Function 0–100 before the course.
    #[garde(inner(range(min = 0, max = 100)))]
    #[schema(minimum = 0, maximum = 100)]
    pub baseline_function: Option<i16>,
    /// The assessment this course came from.
    #[garde(skip)]
    pub assessment_session_id: Option<Uuid>,
    /// Book every planned session now.
    #[serde(default)]
    #[garde(skip)]
    pub book: bool,
}

/// A course, its sessions and its progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Course {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub side: Side,
    pub planned_sessions: i32,
    pub interval_days: IntervalDays,
    pub goal: Option<String>,
    pub baseline_pain: Option<i16>,
    pub baseline_function: Option<i16>,
    pub assessment_session_id: Option<Uuid>,
    pub status: CourseStatus,
    pub status_reason: Option<String>,
    /// Windows knowingly broken by forced moves, oldest first.
    pub warnings: Vec<CourseWarning>,
    pub version: i32,
    /// Instants of the course are written in its location's zone.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<chrono::FixedOffset>,
    /// Every session of the course, by number (absent in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<Session>>,
    /// Where the course stands (absent in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
}

/// A course window knowingly broken by a forced move.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CourseWarning {
    /// When the move was made.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<chrono::FixedOffset>,
    #[schema(example = "session 3 now falls 12 days after session 2 (window 21-42)")]
    pub message: String,
}

impl Course {
    fn from_row(row: model::Course, zone: Tz) -> Self {
        let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
        let warnings: Vec<CourseWarning> = serde_json::from_value(row.warnings).unwrap_or_default();
        let warnings = warnings
            .into_iter()
            .map(|warning| CourseWarning {
                at: local(warning.at.to_utc()),
                ..warning
            })
            .collect();
        Self {
            id: row.id,
            patient_id: row.patient_id,
            provider_id: row.provider_id,
            location_id: row.location_id,
            treatment_area_id: row.treatment_area_id,
            side: Side::parse(&row.side).unwrap_or(Side::None),
            planned_sessions: row.planned_sessions,
            interval_days: IntervalDays {
                min: row.interval_min_days,
                target: row.interval_target_days,
                max: row.interval_max_days,
            },
            goal: row.goal,
            baseline_pain: row.baseline_pain,
            baseline_function: row.baseline_function,
            assessment_session_id: row.assessment_session_id,
            status: CourseStatus::parse(&row.status).unwrap_or(CourseStatus::Planned),
            status_reason: row.status_reason,
            warnings,
            version: row.version,
            created_at: local(row.created_at),
            updated_at: local(row.updated_at),
            sessions: None,
            progress: None,
        }
    }
}

/// What planning read, for booking what it proposed.
struct Planned {
    provider_id: Uuid,
    kind: SessionKind,
    zone: Tz,
    buffer: Duration,
    window: IntervalWindow,
    plan: Plan,
}

/// Plans `request` against the calendars as they are now.
async fn make_plan(
    conn: &mut AsyncPgConnection,
    request: &PlanCourse,
    now: DateTime<Utc>,
) -> Result<Planned, AppError> {
    plan_after(conn, request, Continuation::default(), now).await
}

/// Where a plan continues from: after a session, ignoring sessions about to move.
#[derive(Debug, Clone, Default)]
struct Continuation {
    /// The start of the session the plan follows.
    after: Option<DateTime<Utc>>,
    /// Sessions whose current times do not count (they are being re-planned).
    except: Vec<Uuid>,
    /// Times taken that the database does not know yet: (provider span with buffer, patient span).
    taken: Vec<(Span, Span)>,
}

/// Plans `request`, continuing as `continuation` says.
async fn plan_after(
    conn: &mut AsyncPgConnection,
    request: &PlanCourse,
    continuation: Continuation,
    now: DateTime<Utc>,
) -> Result<Planned, AppError> {
    let after = continuation.after;
    let first_start = request
        .first_starts_at
        .as_deref()
        .map(|text| parse_instant_field("first_starts_at", text))
        .transpose()?;
    let patient = patients::find(conn, request.patient_id)
        .await?
        .ok_or_else(|| AppError::rule("patient_id", "names a patient that does not exist"))?;
    if patient.archived_at.is_some() {
        return Err(AppError::Problem(
            ProblemType::InactiveRecord,
            "the patient is archived".into(),
        ));
    }
    let area = treatment_areas::find(conn, request.treatment_area_id)
        .await?
        .ok_or_else(|| {
            AppError::rule(
                "treatment_area_id",
                "names a treatment area that does not exist",
            )
        })?;
    let zones = locations::time_zones(conn, &[request.location_id]).await?;
    let zone = *zones
        .get(&request.location_id)
        .ok_or_else(|| AppError::rule("location_id", "names a location that does not exist"))?;
    let settings = settings::get(conn).await?;
    let kind = request.kind.unwrap_or(SessionKind::Injection);
    let minutes = match kind {
        SessionKind::Assessment => area.assessment_minutes,
        SessionKind::Injection => area.injection_minutes,
        SessionKind::FollowUp => area.follow_up_minutes,
    };
    let buffer = match kind {
        SessionKind::Injection => {
            Duration::minutes(i64::from(settings.buffer_after_injection_minutes))
        }
        _ => Duration::zero(),
    };
    let days = request.interval_days.unwrap_or(IntervalDays {
        min: area.interval_min_days,
        target: area.interval_target_days,
        max: area.interval_max_days,
    });
    let window = IntervalWindow {
        min: days.min.max(1) as u32,
        target: days.target.map(|t| t.max(1) as u32),
        max: days.max.max(1) as u32,
    };
    let earliest = now + Duration::minutes(i64::from(settings.minimum_notice_minutes));
    let latest = now + Duration::days(i64::from(settings.booking_horizon_days));
    // Injection 1 does not fall on the assessment's day: the area's gap follows it.
    let not_before = match kind {
        SessionKind::Assessment => None,
        _ => sessions_model::latest_assessment(conn, patient.id, area.id)
            .await?
            .map(|assessment| {
                after_assessment(assessment, zone, area.assessment_gap_days.max(0) as u32)
            }),
    };
    let horizon = Span {
        start: earliest - Duration::days(1),
        end: latest + Duration::days(1),
    };
    let mut patient_busy =
        sessions_model::patient_busy(conn, patient.id, horizon, &continuation.except).await?;
    patient_busy.extend(continuation.taken.iter().map(|(_, patient)| *patient));
    let mut candidates = providers::eligible(
        conn,
        area.id,
        request.provider_id,
        Some(request.location_id),
    )
    .await?;
    candidates.sort();
    let mut best: Option<Planned> = None;
    for (provider_id, _) in candidates {
        let hours = working_hours::for_provider(conn, provider_id)
            .await?
            .into_iter()
            .filter(|row| row.location_id == request.location_id)
            .filter_map(|row| {
                Some(WeeklyInterval {
                    location_id: row.location_id,
                    weekday: Weekday::from_iso_number(row.weekday)?,
                    start: row.start_time.into(),
                    end: row.end_time.into(),
                    effective_from: row.effective_from,
                    effective_until: row.effective_until,
                })
            })
            .collect();
        let mut provider_busy: Vec<Span> =
            sessions_model::busy(conn, &[provider_id], horizon, &continuation.except)
                .await?
                .into_iter()
                .map(|(_, span)| span)
                .collect();
        provider_busy.extend(continuation.taken.iter().map(|(provider, _)| *provider));
        let input = PlanInput {
            sessions: request.sessions,
            duration: Duration::minutes(i64::from(minutes)),
            buffer_after: buffer,
            step: Duration::minutes(i64::from(settings.slot_step_minutes)),
            window,
            first_start,
            time_zone: zone,
            hours,
            provider_busy,
            patient_busy: patient_busy.clone(),
            earliest,
            latest,
            preferences: Preferences {
                weekdays: request.preferred_weekdays.clone().unwrap_or_default(),
                time_window: request
                    .preferred_time_window
                    .as_ref()
                    .map(|w| (w.start.time(), w.end.time())),
            },
            after,
            not_before,
        };
        let proposal = plan(&input);
        let better = best
            .as_ref()
            .is_none_or(|b| proposal.unplaced.len() < b.plan.unplaced.len());
        if better {
            let complete = proposal.unplaced.is_empty();
            best = Some(Planned {
                provider_id,
                kind,
                zone,
                buffer,
                window,
                plan: proposal,
            });
            if complete {
                break;
            }
        }
    }
    best.ok_or_else(|| {
        AppError::Problem(
            ProblemType::ProviderNotEligible,
            "no active provider treats this area at this location".into(),
        )
    })
}

fn course_plan(planned: &Planned, location_id: Uuid) -> CoursePlan {
    CoursePlan {
        provider_id: planned.provider_id,
        location_id,
        sessions: planned
            .plan
            .placed
            .iter()
            .map(|p| ProposedSession {
                number: p.number,
                starts_at: p.starts_at.with_timezone(&planned.zone).fixed_offset(),
                ends_at: p.ends_at.with_timezone(&planned.zone).fixed_offset(),
            })
            .collect(),
        unplaced: planned
            .plan
            .unplaced
            .iter()
            .map(|u| UnplacedSession {
                number: u.number,
                reason: u.reason.clone(),
            })
            .collect(),
    }
}

/// Plan a course
///
/// Proposes every session and writes nothing: session 1 at `first_starts_at` or the earliest
/// fitting slot; each next one inside the interval window from the previous, nearest the target,
/// on the course's weekday and local time of day, and only where booking would succeed. Sessions
/// that fit nowhere are listed in `unplaced` with the reason.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = PlanCourse,
    responses(
        (status = 200, description = "The proposal", body = CoursePlan),
        (status = 422, description = "`time-without-offset`, `inactive-record` or `provider-not-eligible`", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/plan")]
pub async fn plan_course(
    StaffKey(_caller): StaffKey,
    state: web::Data<AppState>,
    Json(body): Json<PlanCourse>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let planned = make_plan(&mut conn, &body, state.now()).await?;
    Ok(HttpResponse::Ok().json(course_plan(&planned, body.location_id)))
}

/// Create a course
///
/// With `book: true`, plans and books every session in one transaction: all or nothing (a
/// session that cannot be placed → 422 `course-not-plannable` naming it; one taken meanwhile →
/// 409 naming its number). Without it, the course is created and sessions are added later with
/// `course_id`. `Idempotency-Key` makes retries safe.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = CreateCourse,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body replay the first answer")),
    responses(
        (status = 201, description = "Created (and booked)", body = Course, headers(("Location" = String), ("ETag" = String))),
        (status = 409, response = SlotTaken),
        (status = 422, response = CourseNotPlannable),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses")]
pub async fn create_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<CreateCourse>,
) -> Result<HttpResponse, AppError> {
    let key = idempotency::key_from(&req)?;
    let now = state.now();
    let hash = idempotency::fingerprint(&body);
    let mut conn = state.conn().await?;
    let (answer, replayed) = idempotency::run_once(
        &mut conn,
        caller.key_id,
        key,
        "POST /v1/courses",
        hash,
        now,
        || {
            let (body, caller) = (body.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let course = create(conn, &caller, &body, now).await?;
                    Ok(Answer {
                        status: StatusCode::CREATED,
                        location: Some(format!("/v1/courses/{}", course.id)),
                        etag: Some(crate::http::conditional::etag(course.version)),
                        body: serde_json::to_value(&course)
                            .map_err(|e| AppError::Internal(Box::new(e)))?,
                    })
                })
            }
        },
    )
    .await?;
    Ok(answer.respond(replayed))
}

async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    body: &CreateCourse,
    now: DateTime<Utc>,
) -> Result<Course, AppError> {
    if let Some(assessment) = body.assessment_session_id {
        check_assessment(conn, assessment, body.plan.patient_id).await?;
    }
    // Choose the provider, then take the calendars and plan again under the locks, so what is
    // booked is exactly what the calendars allow at commit.
    let chosen = make_plan(conn, &body.plan, now).await?;
    let mut request = body.plan.clone();
    request.provider_id = Some(chosen.provider_id);
    if body.book {
        sessions_model::lock_calendars(conn, &[chosen.provider_id, body.plan.patient_id]).await?;
    }
    let planned = make_plan(conn, &request, now).await?;
    if body.book && !planned.plan.unplaced.is_empty() {
        let numbers: Vec<String> = planned
            .plan
            .unplaced
            .iter()
            .map(|u| format!("{} ({})", u.number, u.reason))
            .collect();
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!("sessions that cannot be placed: {}", numbers.join("; ")),
        ));
    }
    let row = model::insert(
        conn,
        NewCourse {
            id: Uuid::now_v7(),
            patient_id: body.plan.patient_id,
            provider_id: planned.provider_id,
            location_id: body.plan.location_id,
            treatment_area_id: body.plan.treatment_area_id,
            side: body.side.as_str().to_owned(),
            planned_sessions: body.plan.sessions as i32,
            interval_min_days: planned.window.min as i32,
            interval_target_days: planned.window.target.map(|t| t as i32),
            interval_max_days: planned.window.max as i32,
            goal: body.goal.clone(),
            baseline_pain: body.baseline_pain,
            baseline_function: body.baseline_function,
            assessment_session_id: body.assessment_session_id,
            status: if body.book {
                CourseStatus::Active
            } else {
                CourseStatus::Planned
            }
            .as_str()
            .to_owned(),
        },
    )
    .await?;
    if body.book {
        book_planned(conn, caller, &row, &planned, 0).await?;
    }
    let audit = caller
        .audit("course.create", "courses", Some(row.id), 201)
        .patient(row.patient_id);
    audit_events::append(conn, audit).await?;
    with_sessions(conn, row, now).await
}

/// The assessment a course cites is an assessment session of the course's own patient.
async fn check_assessment(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    patient_id: Uuid,
) -> Result<(), AppError> {
    let session = sessions_model::find(conn, session_id).await?;
    match session {
        None => Err(AppError::rule(
            "assessment_session_id",
            "no session has this id",
        )),
        Some(session) if session.patient_id != patient_id => Err(AppError::rule(
            "assessment_session_id",
            "is a session of another patient",
        )),
        Some(session) if session.kind != SessionKind::Assessment.as_str() => Err(AppError::rule(
            "assessment_session_id",
            "is not an assessment session",
        )),
        Some(_) => Ok(()),
    }
}

/// Books the planned sessions into `course`, numbered after `first_number`; a slot taken
/// meanwhile names the session's number.
async fn book_planned(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    course: &model::Course,
    planned: &Planned,
    first_number: i32,
) -> Result<(), AppError> {
    for placed in &planned.plan.placed {
        let number = first_number + placed.number as i32;
        let new = NewSession {
            id: Uuid::now_v7(),
            kind: planned.kind.as_str().to_owned(),
            patient_id: course.patient_id,
            provider_id: course.provider_id,
            location_id: course.location_id,
            treatment_area_id: course.treatment_area_id,
            course_id: Some(course.id),
            course_number: Some(number),
            starts_at: placed.starts_at,
            ends_at: placed.ends_at,
            held_until: placed.ends_at + planned.buffer,
        };
        let session =
            sessions_model::insert(conn, new).await.map_err(|error| {
                match AppError::from(error) {
                    AppError::Problem(kind, detail) => {
                        AppError::Problem(kind, format!("session {number}: {detail}"))
                    }
                    other => other,
                }
            })?;
        let mut booked = event(caller, session.id, "booked", None, SessionStatus::Scheduled);
        booked.new_starts_at = Some(session.starts_at);
        sessions_model::add_event(conn, booked).await?;
    }
    Ok(())
}

/// A plan request for `sessions` more sessions of `course`, by its own provider and window.
fn continuing(course: &model::Course, sessions: u32, kind: Option<SessionKind>) -> PlanCourse {
    PlanCourse {
        patient_id: course.patient_id,
        treatment_area_id: course.treatment_area_id,
        location_id: course.location_id,
        provider_id: Some(course.provider_id),
        sessions,
        interval_days: Some(IntervalDays {
            min: course.interval_min_days,
            target: course.interval_target_days,
            max: course.interval_max_days,
        }),
        first_starts_at: None,
        kind,
        preferred_weekdays: None,
        preferred_time_window: None,
    }
}

/// The course with its sessions and progress.
async fn with_sessions(
    conn: &mut AsyncPgConnection,
    row: model::Course,
    now: DateTime<Utc>,
) -> Result<Course, AppError> {
    let rows = model::sessions_of(conn, row.id).await?;
    let zones = locations::time_zones(conn, &[row.location_id]).await?;
    let zone = zones
        .get(&row.location_id)
        .copied()
        .unwrap_or(chrono_tz::UTC);
    let mut summaries = Vec::new();
    let mut sessions = Vec::new();
    for session in rows {
        let record = sessions_model::record(conn, session.id).await?;
        summaries.push(SessionSummary {
            id: session.id,
            number: session.course_number,
            status: SessionStatus::parse(&session.status).unwrap_or(SessionStatus::Scheduled),
            starts_at: session.starts_at,
            pain_before: record.as_ref().map(|r| r.pain_before),
            pain_after: record.as_ref().map(|r| r.pain_after),
            adverse_events: record
                .as_ref()
                .and_then(|r| r.adverse_events.as_array().map(Vec::len))
                .unwrap_or(0),
        });
        sessions.push(Session::from_row(session, zone, record));
    }
    let window = (
        row.interval_min_days.max(0) as u32,
        row.interval_max_days.max(0) as u32,
    );
    let progress = progress(
        row.planned_sessions.max(0) as u32,
        window,
        row.baseline_pain,
        &summaries,
        zone,
        now,
    );
    let mut course = Course::from_row(row, zone);
    course.sessions = Some(sessions);
    course.progress = Some(progress);
    Ok(course)
}

/// The number the next session of `course_id` gets, after checking it belongs there; a planned
/// course becomes active with its first booking.
pub async fn next_number(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    booking: &super::sessions::book::BookSession,
) -> Result<i32, AppError> {
    let course = model::find_for_update(conn, course_id)
        .await?
        .ok_or_else(|| AppError::rule("course_id", "names a course that does not exist"))?;
    if course.patient_id != booking.patient_id
        || course.treatment_area_id != booking.treatment_area_id
    {
        return Err(AppError::rule(
            "course_id",
            "is a course of another patient or treatment area",
        ));
    }
    let status = CourseStatus::parse(&course.status).unwrap_or(CourseStatus::Planned);
    if matches!(status, CourseStatus::Completed | CourseStatus::Discontinued) {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            format!(
                "the course is {}; it takes no more sessions",
                status.as_str()
            ),
        ));
    }
    let live = model::live_sessions(conn, course_id).await?;
    if live >= i64::from(course.planned_sessions) {
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!(
                "all {} planned sessions of the course are booked; extend the course first",
                course.planned_sessions
            ),
        ));
    }
    if status == CourseStatus::Planned {
        model::set_status(conn, course_id, CourseStatus::Active.as_str(), None).await?;
    }
    Ok(model::max_number(conn, course_id).await?.unwrap_or(0) + 1)
}

/// Marks the course completed once its last planned session is; a first completed session makes
/// a planned course active.
pub async fn after_session_completed(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
) -> Result<(), AppError> {
    let Some(course) = model::find_for_update(conn, course_id).await? else {
        return Ok(());
    };
    let status = CourseStatus::parse(&course.status).unwrap_or(CourseStatus::Planned);
    let completed = model::completed_sessions(conn, course_id).await?;
    if completed >= i64::from(course.planned_sessions) && status != CourseStatus::Completed {
        model::set_status(
            conn,
            course_id,
            CourseStatus::Completed.as_str(),
            Some("every planned session is completed".into()),
        )
        .await?;
    } else if status == CourseStatus::Planned {
        model::set_status(conn, course_id, CourseStatus::Active.as_str(), None).await?;
    }
    Ok(())
}

/// Checks that moving `session` of the course to `new_start` keeps the interval windows to its
/// neighbours; with `force`, a broken window is recorded on the course instead of refused.
pub async fn check_windows(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    session: &sessions_model::Session,
    new_start: DateTime<Utc>,
    zone: Tz,
    rules: WindowRules,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let WindowRules { force, check_next } = rules;
    let course = model::find_for_update(conn, course_id)
        .await?
        .ok_or(AppError::NotFound("course"))?;
    let (min, max) = (
        i64::from(course.interval_min_days),
        i64::from(course.interval_max_days),
    );
    let number = session.course_number.unwrap_or(0);
    let others: Vec<sessions_model::Session> = model::sessions_of(conn, course_id)
        .await?
        .into_iter()
        .filter(|s| s.id != session.id && s.status != SessionStatus::Cancelled.as_str())
        .collect();
    let days = |from: DateTime<Utc>, to: DateTime<Utc>| {
        (to.with_timezone(&zone).date_naive() - from.with_timezone(&zone).date_naive()).num_days()
    };
    let previous = others
        .iter()
        .filter(|s| s.course_number.unwrap_or(0) < number)
        .max_by_key(|s| s.course_number);
    let next = others
        .iter()
        .filter(|s| s.course_number.unwrap_or(0) > number)
        .min_by_key(|s| s.course_number);
    let mut broken = Vec::new();
    if let Some(previous) = previous {
        let gap = days(previous.starts_at, new_start);
        if !(min..=max).contains(&gap) {
            broken.push(format!(
                "session {number} would be {gap} days after session {}",
                previous.course_number.unwrap_or(0)
            ));
        }
    }
    if let Some(next) = next.filter(|_| check_next) {
        let gap = days(new_start, next.starts_at);
        if !(min..=max).contains(&gap) {
            broken.push(format!(
                "session {} would be {gap} days after session {number}",
                next.course_number.unwrap_or(0)
            ));
        }
    }
    if broken.is_empty() {
        return Ok(());
    }
    let message = format!(
        "{}; the window is {min} to {max} days",
        broken.join(" and ")
    );
    if !force {
        return Err(AppError::Problem(ProblemType::CourseWindowBroken, message));
    }
    model::add_warning(
        conn,
        course_id,
        serde_json::json!({"at": now, "message": message}),
    )
    .await?;
    Ok(())
}

/// How a move is held to the course's interval windows.
#[derive(Debug, Clone, Copy)]
pub struct WindowRules {
    /// Record a broken window as a warning instead of refusing the move.
    pub force: bool,
    /// Check the window to the next session too (not when it is re-planned by a cascade).
    pub check_next: bool,
}

/// A session moved by a cascade: its id and new start, end and held-until.
pub type Move = (Uuid, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

/// Re-plans the later scheduled sessions of the course after `session` moves to `new_span`
/// (held until `held_until`), so every interval window holds again; nothing is written.
pub async fn cascade(
    conn: &mut AsyncPgConnection,
    course_id: Uuid,
    session: &sessions_model::Session,
    new_span: Span,
    held_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Move>, AppError> {
    let course = model::find_for_update(conn, course_id)
        .await?
        .ok_or(AppError::NotFound("course"))?;
    let number = session.course_number.unwrap_or(0);
    let later: Vec<sessions_model::Session> = model::sessions_of(conn, course_id)
        .await?
        .into_iter()
        .filter(|s| s.course_number.unwrap_or(0) > number)
        .filter(|s| SessionStatus::parse(&s.status).is_some_and(SessionStatus::may_reschedule))
        .collect();
    if later.is_empty() {
        return Ok(Vec::new());
    }
    let kind = later.first().and_then(|s| SessionKind::parse(&s.kind));
    let request = continuing(&course, later.len() as u32, kind);
    let mut except: Vec<Uuid> = later.iter().map(|s| s.id).collect();
    except.push(session.id);
    let continuation = Continuation {
        after: Some(new_span.start),
        except,
        taken: vec![(
            Span {
                start: new_span.start,
                end: held_until,
            },
            new_span,
        )],
    };
    let planned = plan_after(conn, &request, continuation, now).await?;
    if let Some(first) = planned.plan.unplaced.first() {
        let number = later
            .get(first.number as usize - 1)
            .and_then(|s| s.course_number)
            .unwrap_or(0);
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!("session {number} cannot follow the move: {}", first.reason),
        ));
    }
    Ok(later
        .iter()
        .zip(&planned.plan.placed)
        .map(|(session, placed)| {
            (
                session.id,
                placed.starts_at,
                placed.ends_at,
                placed.ends_at + planned.buffer,
            )
        })
        .collect())
}

/// Get a course with its sessions and progress
///
/// A provider key sees only its own courses.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The course", body = Course, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/courses/{id}")]
pub async fn get_course(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.conn().await?;
    let row = model::find(&mut conn, *id)
        .await?
        .ok_or(AppError::NotFound("course"))?;
    if !caller.sees_provider(row.provider_id) {
        return Err(AppError::Concealed("course"));
    }
    let audit = caller
        .audit("course.read", "courses", Some(row.id), 200)
        .patient(row.patient_id);
    audit_events::append(&mut conn, audit).await?;
    let course = with_sessions(&mut conn, row, state.now()).await?;
    Ok(ok_tagged(&course, course.version))
}

/// Filters of the course list.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct CourseQuery {
    #[garde(skip)]
    pub patient_id: Option<Uuid>,
    /// A provider key always sees only its own courses.
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub status: Option<CourseStatus>,
}

/// List courses
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    params(PageQuery, CourseQuery),
    responses(
        (status = 200, description = "One page of courses, oldest first (without sessions and progress)", body = Page<Course>),
        (status = 400, response = BadRequest), AuthErrors, ServerErrors,
    )
)]
#[get("/courses")]
pub async fn list_courses(
    AnyKey(caller): AnyKey,
    state: web::Data<AppState>,
    Query(page): Query<PageQuery>,
    Query(query): Query<CourseQuery>,
) -> Result<HttpResponse, AppError> {
    let request = page.request()?;
    let provider_id = match (caller.provider_id, query.provider_id) {
        (Some(own), Some(asked)) if own != asked => return Err(AppError::Concealed("provider")),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let filter = CourseFilter {
        patient_id: query.patient_id,
        provider_id,
        status: query.status.map(|s| s.as_str().to_owned()),
    };
    let mut conn = state.conn().await?;
    let rows = model::list(&mut conn, filter, request).await?;
    let location_ids: Vec<Uuid> = rows.iter().map(|row| row.location_id).collect();
    let zones = locations::time_zones(&mut conn, &location_ids).await?;
    let mut audit = caller.audit("course.list", "courses", None, 200);
    audit.patient_id = query.patient_id;
    audit_events::append(&mut conn, audit).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        request,
        |row| row.id,
        |row| {
            let zone = zones
                .get(&row.location_id)
                .copied()
                .unwrap_or(chrono_tz::UTC);
            Course::from_row(row, zone)
        },
    )))
}

/// A change of a course's status.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "on_hold", "reason": "Patient travelling for a month"}))]
pub struct ChangeCourseStatus {
    /// `active`, `on_hold`, `completed` or `discontinued`.
    #[garde(skip)]
    pub status: CourseStatus,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Why a whole course is cancelled.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason_code": "feeling_better", "note": "Pain gone after 3 sessions"}))]
pub struct CancelCourse {
    #[garde(skip)]
    pub reason_code: super::sessions::CancelReason,
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Change a course's status
///
/// Hold, resume, complete early or discontinue, with a reason; only legal transitions (409
/// naming the current status otherwise). `If-Match` is honoured when sent.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = ChangeCourseStatus,
    params(("If-Match" = Option<String>, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The course", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 412, response = PreconditionFailed),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/{id}/status")]
pub async fn change_course_status(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: crate::http::conditional::IfMatch,
    Json(body): Json<ChangeCourseStatus>,
) -> Result<HttpResponse, AppError> {
    use diesel_async::AsyncConnection;
    let (id, expected, now) = (*id, if_match.optional(), state.now());
    let mut conn = state.conn().await?;
    let course = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = model::find_for_update(conn, id)
                .await?
                .ok_or(AppError::NotFound("course"))?;
            expected.check(current.version)?;
            let status = CourseStatus::parse(&current.status).unwrap_or(CourseStatus::Planned);
            if !status.may_become(body.status) {
                return Err(AppError::Problem(
                    ProblemType::InvalidTransition,
                    format!(
                        "the course is {}; it cannot become {}",
                        status.as_str(),
                        body.status.as_str()
                    ),
                ));
            }
            let row =
                model::set_status(conn, id, body.status.as_str(), body.reason.clone()).await?;
            let action = format!("course.{}", body.status.as_str());
            audit_events::append(
                conn,
                caller
                    .audit(&action, "courses", Some(id), 200)
                    .patient(row.patient_id),
            )
            .await?;
            with_sessions(conn, row, now).await
        })
        .await?;
    Ok(ok_tagged(&course, course.version))
}

/// Cancel a course
///
/// Cancels every future session of the course with one reason, and discontinues the course, in
/// one transaction.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = CancelCourse,
    responses(
        (status = 200, description = "The course, discontinued", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/{id}/cancel")]
pub async fn cancel_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CancelCourse>,
) -> Result<HttpResponse, AppError> {
    use diesel_async::AsyncConnection;
    let (id, now) = (*id, state.now());
    let mut conn = state.conn().await?;
    let course = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = model::find_for_update(conn, id)
                .await?
                .ok_or(AppError::NotFound("course"))?;
            let status = CourseStatus::parse(&current.status).unwrap_or(CourseStatus::Planned);
            if !status.may_become(CourseStatus::Discontinued) {
                return Err(AppError::Problem(
                    ProblemType::InvalidTransition,
                    format!("the course is {}; it cannot be cancelled", status.as_str()),
                ));
            }
            let reason = body.reason_code.as_str().to_owned();
            let window = Duration::hours(i64::from(
                settings::get(conn).await?.late_cancellation_hours,
            ));
            for session in model::sessions_of(conn, id).await? {
                let session_status =
                    SessionStatus::parse(&session.status).unwrap_or(SessionStatus::Scheduled);
                if session.starts_at <= now || !session_status.may_become(SessionStatus::Cancelled)
                {
                    continue;
                }
                let late = session.starts_at - now < window;
                sessions_model::set_status(
                    conn,
                    session.id,
                    SessionStatus::Cancelled,
                    Some((reason.clone(), body.note.clone(), late)),
                )
                .await?;
                let mut entry = event(
                    &caller,
                    session.id,
                    "cancelled",
                    Some(session_status),
                    SessionStatus::Cancelled,
                );
                entry.reason = Some(format!("course cancelled: {reason}"));
                sessions_model::add_event(conn, entry).await?;
            }
            let row =
                model::set_status(conn, id, CourseStatus::Discontinued.as_str(), Some(reason))
                    .await?;
            audit_events::append(
                conn,
                caller
                    .audit("course.cancel", "courses", Some(id), 200)
                    .patient(row.patient_id),
            )
            .await?;
            with_sessions(conn, row, now).await
        })
        .await?;
    Ok(ok_tagged(&course, course.version))
}

/// A patient's courses with their progress
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every course of the patient, oldest first, with sessions and progress", body = Vec<Course>),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        AuthErrors, ServerErrors,
    )
)]
#[get("/patients/{id}/courses")]
pub async fn patient_courses(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (*id, state.now());
    let mut conn = state.conn().await?;
    patients::find(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound("patient"))?;
    let filter = CourseFilter {
        patient_id: Some(id),
        ..CourseFilter::default()
    };
    let rows = model::list(
        &mut conn,
        filter,
        crate::http::pagination::PageRequest {
            after: None,
            limit: 100,
        },
    )
    .await?;
    let mut courses = Vec::new();
    for row in rows {
        courses.push(with_sessions(&mut conn, row, now).await?);
    }
    audit_events::append(
        &mut conn,
        caller
            .audit("course.list", "courses", None, 200)
            .patient(id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(courses))
}

/// More sessions for a course.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sessions": 2}))]
pub struct ExtendCourse {
    /// How many sessions to add, 1 to 20.
    #[garde(range(min = 1, max = 20))]
    #[schema(minimum = 1, maximum = 20)]
    pub sessions: u32,
}

/// Extend a course
///
/// Plans the added sessions the same way, after the course's last session, and books them, all
/// or nothing (422 `course-not-plannable` naming what fits nowhere).
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = ExtendCourse,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body replay the first answer")),
    responses(
        (status = 200, description = "The extended course", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 409, response = InvalidTransition),
        (status = 422, response = CourseNotPlannable),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/courses/{id}/extend")]
pub async fn extend_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Json(body): Json<ExtendCourse>,
) -> Result<HttpResponse, AppError> {
    let key = idempotency::key_from(&req)?;
    let (id, now) = (*id, state.now());
    let hash = idempotency::fingerprint(&(id, body.sessions));
    let mut conn = state.conn().await?;
    let (answer, replayed) = idempotency::run_once(
        &mut conn,
        caller.key_id,
        key,
        "POST /v1/courses/{id}/extend",
        hash,
        now,
        || {
            let (sessions, caller) = (body.sessions, caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let course = extend(conn, &caller, id, sessions, now).await?;
                    Ok(Answer {
                        status: StatusCode::OK,
                        location: None,
                        etag: Some(crate::http::conditional::etag(course.version)),
                        body: serde_json::to_value(&course)
                            .map_err(|e| AppError::Internal(Box::new(e)))?,
                    })
                })
            }
        },
    )
    .await?;
    Ok(answer.respond(replayed))
}

async fn extend(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    sessions: u32,
    now: DateTime<Utc>,
) -> Result<Course, AppError> {
    let current = model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("course"))?;
    let status = CourseStatus::parse(&current.status).unwrap_or(CourseStatus::Planned);
    if status == CourseStatus::Discontinued {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            "the course is discontinued".into(),
        ));
    }
    sessions_model::lock_calendars(conn, &[current.provider_id, current.patient_id]).await?;
    let existing = model::sessions_of(conn, id).await?;
    let last = existing
        .iter()
        .filter(|s| s.status != SessionStatus::Cancelled.as_str())
        .map(|s| s.starts_at)
        .max();
    let kind = existing
        .iter()
        .rev()
        .find_map(|s| SessionKind::parse(&s.kind))
        .unwrap_or(SessionKind::Injection);
    let request = continuing(&current, sessions, Some(kind));
    let continuation = Continuation {
        after: last,
        ..Continuation::default()
    };
    let planned = plan_after(conn, &request, continuation, now).await?;
    if !planned.plan.unplaced.is_empty() {
        let numbers: Vec<String> = planned
            .plan
            .unplaced
            .iter()
            .map(|u| format!("+{} ({})", u.number, u.reason))
            .collect();
        return Err(AppError::Problem(
            ProblemType::CourseNotPlannable,
            format!(
                "added sessions that cannot be placed: {}",
                numbers.join("; ")
            ),
        ));
    }
    let first_number = model::max_number(conn, id).await?.unwrap_or(0);
    book_planned(conn, caller, &current, &planned, first_number).await?;
    let row = model::extend(conn, id, sessions as i32).await?;
    audit_events::append(
        conn,
        caller
            .audit("course.extend", "courses", Some(id), 200)
            .patient(row.patient_id),
    )
    .await?;
    with_sessions(conn, row, now).await
}

/// Fields of a course to change; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"goal": "Return to running", "interval_days": {"min": 21, "target": 28, "max": 35}}))]
pub struct UpdateCourse {
    #[garde(skip)]
    pub side: Option<Side>,
    #[serde(default, deserialize_with = "crate::http::rules::nullable")]
    #[garde(custom(crate::http::rules::nullable_text::<2000>))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub goal: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::rules::nullable")]
    #[garde(inner(inner(range(min = 0, max = 10))))]
    #[schema(value_type = Option<i16>, minimum = 0, maximum = 10)]
    pub baseline_pain: Option<Option<i16>>,
    #[serde(default, deserialize_with = "crate::http::rules::nullable")]
    #[garde(inner(inner(range(min = 0, max = 100))))]
    #[schema(value_type = Option<i16>, minimum = 0, maximum = 100)]
    pub baseline_function: Option<Option<i16>>,
    /// Applies to sessions planned from now on.
    #[garde(dive)]
    pub interval_days: Option<IntervalDays>,
}

/// Update a course
///
/// Requires `If-Match` with the course's current `ETag`.
#[utoipa::path(
    tag = "courses",
    security(("bearer" = [])),
    request_body = UpdateCourse,
    params(("If-Match" = String, Header, description = "The current ETag")),
    responses(
        (status = 200, description = "The updated course", body = Course, headers(("ETag" = String))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 428, response = PreconditionRequired),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[patch("/courses/{id}")]
pub async fn update_course(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: crate::http::conditional::IfMatch,
    Json(body): Json<UpdateCourse>,
) -> Result<HttpResponse, AppError> {
    use diesel_async::AsyncConnection;
    let expected = if_match.required()?;
    let (id, now) = (*id, state.now());
    let changes = model::CourseChanges {
        side: body.side.map(|side| side.as_str().to_owned()),
        goal: body.goal,
        baseline_pain: body.baseline_pain,
        baseline_function: body.baseline_function,
        interval_min_days: body.interval_days.map(|d| d.min),
        interval_target_days: body.interval_days.map(|d| d.target),
        interval_max_days: body.interval_days.map(|d| d.max),
    };
    let mut conn = state.conn().await?;
    let course = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = model::find_for_update(conn, id)
                .await?
                .ok_or(AppError::NotFound("course"))?;
            expected.check(current.version)?;
            let row = model::update(conn, id, changes).await?;
            audit_events::append(
                conn,
                caller
                    .audit("course.update", "courses", Some(id), 200)
                    .patient(row.patient_id),
            )
            .await?;
            with_sessions(conn, row, now).await
        })
        .await?;
    Ok(ok_tagged(&course, course.version))
}
