//! Sessions: `/v1/sessions`. Booking, reading, and every change of a session's life.

pub mod book;
pub mod change;
pub mod read;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::calendar::SessionView;
use crate::domain::clinical::ClinicalRecord;
use crate::domain::sessions::{CancelReason, SessionKind, SessionStatus};
use crate::error::{AppError, ProblemType};
use crate::models::sessions as model;

/// One appointment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub kind: SessionKind,
    pub status: SessionStatus,
    pub patient_id: Uuid,
    pub provider_id: Uuid,
    pub location_id: Uuid,
    pub treatment_area_id: Uuid,
    pub course_id: Option<Uuid>,
    /// Position within the course.
    pub course_number: Option<i32>,
    /// In the location's time zone, with its offset.
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:00:00-06:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:30:00-06:00")]
    pub ends_at: DateTime<FixedOffset>,
    /// The location's IANA time zone.
    #[schema(example = "America/Denver")]
    pub time_zone: String,
    pub cancel_reason: Option<CancelReason>,
    pub cancel_note: Option<String>,
    /// Cancelled inside the clinic's late-cancellation window.
    pub late_cancellation: Option<bool>,
    /// What happened, once completed.
    pub clinical_record: Option<ClinicalRecord>,
    /// The rooms and devices the session was given, one per tag its treatment area requires
    /// (empty when it requires none).
    pub resources: Vec<crate::api::resources::SessionResource>,
    /// Increases with every change; the `ETag`.
    pub version: i32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<FixedOffset>,
}

impl Session {
    /// The API form of a session, with times in its location's zone.
    pub fn from_view(view: SessionView) -> Self {
        let SessionView {
            row,
            zone,
            record,
            resources,
        } = view;
        let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
        Self {
            id: row.id,
            kind: row.kind,
            status: row.status,
            patient_id: row.patient_id,
            provider_id: row.provider_id,
            location_id: row.location_id,
            treatment_area_id: row.treatment_area_id,
            course_id: row.course_id,
            course_number: row.course_number,
            starts_at: local(row.starts_at),
            ends_at: local(row.ends_at),
            time_zone: zone.name().to_owned(),
            cancel_reason: row.cancel_reason,
            cancel_note: row.cancel_note,
            late_cancellation: row.late_cancellation,
            clinical_record: record.map(clinical_record),
            resources: resources.into_iter().map(Into::into).collect(),
            version: row.version,
            created_at: local(row.created_at),
            updated_at: local(row.updated_at),
        }
    }
}

/// The API form of a stored clinical record.
fn clinical_record(row: model::ClinicalRecord) -> ClinicalRecord {
    ClinicalRecord {
        pain_before: row.pain_before,
        pain_after: row.pain_after,
        function_score: row.function_score,
        injectate: row.injectate,
        volume_ml: row.volume_ml,
        sites: row.sites,
        adverse_events: serde_json::from_value(row.adverse_events).unwrap_or_default(),
        note: row.note,
    }
}

/// Parses a session time; a time without an offset is its own 422.
pub fn parse_start(text: &str) -> Result<DateTime<Utc>, AppError> {
    parse_instant_field("starts_at", text)
}

/// Parses the start in `field`: an instant on a whole minute (the slot grid has no seconds, so
/// `09:00:30`, `09:00:00.5` and the leap second `23:59:60` are refused with a 422 rather than
/// silently moved); a time without an offset is its own 422.
pub fn parse_instant_field(field: &str, text: &str) -> Result<DateTime<Utc>, AppError> {
    use chrono::Timelike;
    match crate::http::rules::parse_instant(text) {
        Ok(instant) if instant.second() != 0 || instant.nanosecond() != 0 => Err(AppError::rule(
            field,
            "must fall on a whole minute: no seconds, fractions or leap seconds",
        )),
        Ok(instant) => Ok(instant),
        Err(_)
            if chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S").is_ok()
                || chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").is_ok() =>
        {
            Err(AppError::Problem(
                ProblemType::TimeWithoutOffset,
                format!("{field} `{text}` has no UTC offset; e.g. 2027-03-15T09:00:00-06:00"),
            ))
        }
        Err(message) => Err(AppError::field(field, message)),
    }
}
