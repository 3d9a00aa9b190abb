//! Treatment courses: `/v1/courses`. Plan a whole course, book it in one transaction, read
//! where it stands.

pub mod change;
pub mod plan;
pub mod read;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::sessions::{Session, parse_instant_field};
use super::treatment_areas::IntervalDays;
use crate::app::courses::CourseView;
use crate::app::courses::plan::{PlanRequest, Planned};
use crate::domain::courses::{CourseStatus, Progress, Side};
use crate::domain::planning::{IntervalWindow, Preferences};
use crate::domain::sessions::SessionKind;
use crate::domain::time::{TimeWindow, Weekday};
use crate::error::AppError;

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
    /// The API form of a course, with instants in its location's zone.
    pub fn from_view(view: CourseView) -> Self {
        let CourseView {
            row,
            zone,
            sessions,
            progress,
        } = view;
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
            side: row.side,
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
            status: row.status,
            status_reason: row.status_reason,
            warnings,
            version: row.version,
            created_at: local(row.created_at),
            updated_at: local(row.updated_at),
            sessions: sessions.map(|list| list.into_iter().map(Session::from_view).collect()),
            progress,
        }
    }
}

/// The window a request names, as the planner takes it.
pub fn interval_window(days: IntervalDays) -> IntervalWindow {
    IntervalWindow {
        min: days.min.max(1) as u32,
        target: days.target.map(|t| t.max(1) as u32),
        max: days.max.max(1) as u32,
    }
}

impl PlanCourse {
    /// The plan request this body asks for; a first start without an offset is a 422.
    pub fn request(&self) -> Result<PlanRequest, AppError> {
        Ok(PlanRequest {
            patient_id: self.patient_id,
            treatment_area_id: self.treatment_area_id,
            location_id: self.location_id,
            provider_id: self.provider_id,
            sessions: self.sessions,
            interval: self.interval_days.map(interval_window),
            first_start: self
                .first_starts_at
                .as_deref()
                .map(|text| parse_instant_field("first_starts_at", text))
                .transpose()?,
            kind: self.kind,
            preferences: Preferences {
                weekdays: self.preferred_weekdays.clone().unwrap_or_default(),
                time_window: self
                    .preferred_time_window
                    .as_ref()
                    .map(|w| (w.start.time(), w.end.time())),
            },
        })
    }
}

/// The API form of a proposal.
fn course_plan(planned: &Planned, location_id: Uuid) -> CoursePlan {
    let local = |at: DateTime<Utc>| at.with_timezone(&planned.zone).fixed_offset();
    CoursePlan {
        provider_id: planned.provider_id,
        location_id,
        sessions: planned
            .plan
            .placed
            .iter()
            .map(|p| ProposedSession {
                number: p.number,
                starts_at: local(p.starts_at),
                ends_at: local(p.ends_at),
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
