//! Sessions: `/v1/sessions`. Booking, reading, and every change of a session's life.

pub mod book;
pub mod change;
pub mod read;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::sessions::{
    BookingCheck, BookingRefusal, SessionKind, SessionStatus, check_booking,
};
use crate::domain::slots::Span;
use crate::error::{AppError, ProblemType};
use crate::http::auth::Caller;
use crate::models::sessions::{self as model, BookingFacts, MissingRecord};

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
    /// Increases with every change; the `ETag`.
    pub version: i32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<FixedOffset>,
}

impl Session {
    /// The API form of a row, with times in the location's zone.
    pub fn from_row(row: model::Session, zone: Tz, record: Option<model::ClinicalRecord>) -> Self {
        Self {
            id: row.id,
            kind: SessionKind::parse(&row.kind).unwrap_or(SessionKind::Assessment),
            status: SessionStatus::parse(&row.status).unwrap_or(SessionStatus::Scheduled),
            patient_id: row.patient_id,
            provider_id: row.provider_id,
            location_id: row.location_id,
            treatment_area_id: row.treatment_area_id,
            course_id: row.course_id,
            course_number: row.course_number,
            starts_at: row.starts_at.with_timezone(&zone).fixed_offset(),
            ends_at: row.ends_at.with_timezone(&zone).fixed_offset(),
            time_zone: zone.name().to_owned(),
            cancel_reason: row.cancel_reason.as_deref().and_then(CancelReason::parse),
            cancel_note: row.cancel_note,
            late_cancellation: row.late_cancellation,
            clinical_record: record.map(ClinicalRecord::from),
            version: row.version,
            created_at: row.created_at.with_timezone(&zone).fixed_offset(),
            updated_at: row.updated_at.with_timezone(&zone).fixed_offset(),
        }
    }
}

/// Why a session was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    PatientRequest,
    FeelingBetter,
    ConditionWorse,
    Illness,
    ProviderUnavailable,
    ClinicClosure,
    Other,
}

impl CancelReason {
    const ALL: [CancelReason; 7] = [
        Self::PatientRequest,
        Self::FeelingBetter,
        Self::ConditionWorse,
        Self::Illness,
        Self::ProviderUnavailable,
        Self::ClinicClosure,
        Self::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PatientRequest => "patient_request",
            Self::FeelingBetter => "feeling_better",
            Self::ConditionWorse => "condition_worse",
            Self::Illness => "illness",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::ClinicClosure => "clinic_closure",
            Self::Other => "other",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }
}

/// A risk of the injections, observed after a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdverseEventKind {
    InjectionSitePain,
    Swelling,
    Infection,
    AllergicReaction,
    Other,
}

/// How bad an adverse event was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
}

/// An adverse event and its severity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdverseEvent {
    pub kind: AdverseEventKind,
    pub severity: Severity,
}

/// The clinical record of a completed session: personal health information.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "pain_before": 6, "pain_after": 3, "function_score": 55, "injectate": "dextrose 15%",
    "volume_ml": 12.5, "sites": ["medial collateral ligament", "pes anserine"],
    "adverse_events": [{"kind": "injection_site_pain", "severity": "mild"}], "note": "Tolerated well."
}))]
pub struct ClinicalRecord {
    /// Numeric rating scale 0–10 before the injections.
    #[garde(range(min = 0, max = 10))]
    #[schema(minimum = 0, maximum = 10)]
    pub pain_before: i16,
    /// Numeric rating scale 0–10 after.
    #[garde(range(min = 0, max = 10))]
    #[schema(minimum = 0, maximum = 10)]
    pub pain_after: i16,
    /// Function score 0–100.
    #[garde(inner(range(min = 0, max = 100)))]
    #[schema(minimum = 0, maximum = 100)]
    pub function_score: Option<i16>,
    #[garde(inner(length(chars, min = 1, max = 200)))]
    #[schema(min_length = 1, max_length = 200)]
    pub injectate: Option<String>,
    /// Total volume injected, ml.
    #[garde(inner(range(min = 0.1, max = 100.0)))]
    #[schema(minimum = 0.1, maximum = 100.0)]
    pub volume_ml: Option<f64>,
    #[serde(default)]
    #[garde(length(max = 50), inner(length(chars, min = 1, max = 200)))]
    #[schema(schema_with = sites_schema)]
    pub sites: Vec<String>,
    #[serde(default)]
    #[garde(length(max = 20))]
    #[schema(max_items = 20)]
    pub adverse_events: Vec<AdverseEvent>,
    #[garde(inner(length(chars, max = 10000)))]
    #[schema(max_length = 10000)]
    pub note: Option<String>,
}

/// Up to 50 injection sites of 1 to 200 characters (item constraints cannot be put inline).
fn sites_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200)),
        )
        .max_items(Some(50))
        .build()
}

impl From<model::ClinicalRecord> for ClinicalRecord {
    fn from(row: model::ClinicalRecord) -> Self {
        Self {
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

/// The span a session of `kind` starting at `start` occupies, and how long the provider is held.
pub fn session_span(
    facts: &BookingFacts,
    kind: SessionKind,
    start: DateTime<Utc>,
) -> (Span, DateTime<Utc>) {
    let minutes = match kind {
        SessionKind::Assessment => facts.assessment_minutes,
        SessionKind::Injection => facts.injection_minutes,
        SessionKind::FollowUp => facts.follow_up_minutes,
    };
    let end = start + Duration::minutes(i64::from(minutes));
    let buffer = match kind {
        SessionKind::Injection => {
            Duration::minutes(i64::from(facts.buffer_after_injection_minutes))
        }
        _ => Duration::zero(),
    };
    (Span { start, end }, end + buffer)
}

/// Reads the facts and checks every booking rule; the database then settles overlaps.
pub async fn checked_facts(
    conn: &mut AsyncPgConnection,
    ids: (Uuid, Uuid, Uuid, Uuid),
    kind: SessionKind,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(BookingFacts, Span, DateTime<Utc>), AppError> {
    let (patient_id, provider_id, location_id, treatment_area_id) = ids;
    model::lock_calendars(conn, &[provider_id, patient_id]).await?;
    let facts = model::booking_facts(
        conn,
        patient_id,
        provider_id,
        location_id,
        treatment_area_id,
    )
    .await?
    .map_err(|missing| match missing {
        MissingRecord::Patient => {
            AppError::rule("patient_id", "names a patient that does not exist")
        }
        MissingRecord::Provider => {
            AppError::rule("provider_id", "names a provider that does not exist")
        }
        MissingRecord::Location => {
            AppError::rule("location_id", "names a location that does not exist")
        }
        MissingRecord::TreatmentArea => AppError::rule(
            "treatment_area_id",
            "names a treatment area that does not exist",
        ),
    })?;
    let inactive = |what: &str| {
        AppError::Problem(
            ProblemType::InactiveRecord,
            format!("the {what} is archived"),
        )
    };
    if !facts.patient_active {
        return Err(inactive("patient"));
    }
    if !facts.location_active {
        return Err(inactive("location"));
    }
    if !facts.area_active {
        return Err(inactive("treatment area"));
    }
    if !facts.provider_active {
        return Err(AppError::Problem(
            ProblemType::ProviderNotEligible,
            "the provider is archived".into(),
        ));
    }
    let (span, held_until) = session_span(&facts, kind, start);
    let zone: Tz = facts.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let time_off = model::time_off_around(conn, provider_id, span).await?;
    let check = BookingCheck {
        session: span,
        now,
        minimum_notice: Duration::minutes(i64::from(facts.minimum_notice_minutes)),
        horizon: Duration::days(i64::from(facts.booking_horizon_days)),
        treats_area: facts.treats_area,
        works_at_location: facts.works_at_location,
        hours: &facts.hours,
        time_zone: zone,
        time_off: &time_off,
    };
    check_booking(&check).map_err(refusal)?;
    Ok((facts, span, held_until))
}

fn refusal(refusal: BookingRefusal) -> AppError {
    let (kind, detail) = match refusal {
        BookingRefusal::ProviderDoesNotTreatArea => (
            ProblemType::ProviderNotEligible,
            "the provider does not treat this area",
        ),
        BookingRefusal::ProviderNotAtLocation => (
            ProblemType::ProviderNotEligible,
            "the provider does not work at this location",
        ),
        BookingRefusal::TooShortNotice => (
            ProblemType::TooShortNotice,
            "the start is sooner than the minimum notice",
        ),
        BookingRefusal::BeyondHorizon => (
            ProblemType::BeyondHorizon,
            "the start is beyond the booking horizon",
        ),
        BookingRefusal::OutsideWorkingHours => (
            ProblemType::OutsideWorkingHours,
            "the provider does not work at this location for the whole session",
        ),
        BookingRefusal::ProviderOnTimeOff => (
            ProblemType::ProviderOnTimeOff,
            "the provider has time off then",
        ),
    };
    AppError::Problem(kind, detail.to_owned())
}

/// A history entry by `caller`.
pub fn event(
    caller: &Caller,
    session_id: Uuid,
    action: &str,
    from: Option<SessionStatus>,
    to: SessionStatus,
) -> model::SessionEvent {
    model::SessionEvent {
        id: Uuid::now_v7(),
        session_id,
        occurred_at: Utc::now(),
        key_id: Some(caller.key_id),
        action: action.to_owned(),
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: to.as_str().to_owned(),
        old_starts_at: None,
        new_starts_at: None,
        reason: None,
    }
}

/// The session as `caller` may see it: a provider key only its own (others are "not found").
pub fn visible_to(
    caller: &Caller,
    row: Option<model::Session>,
) -> Result<model::Session, AppError> {
    match row {
        Some(row) if caller.sees_provider(row.provider_id) => Ok(row),
        Some(_) => Err(AppError::Concealed("session")),
        None => Err(AppError::NotFound("session")),
    }
}
