//! The one error type of the service and its stable problem types; the HTTP edge renders them
//! as RFC 9457 `application/problem+json` (`http::problem`).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// A stable problem `type`: its URI is `/problems/{slug}`, documented in the README and OpenAPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    ValidationFailed,
    UnprocessableValues,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    SlugTaken,
    Duplicate,
    InUse,
    ScheduleConflict,
    OutsideWorkingHours,
    ProviderOnTimeOff,
    ProviderNotEligible,
    TooShortNotice,
    BeyondHorizon,
    TimeWithoutOffset,
    InactiveRecord,
    TooEarly,
    OutsideVisitWindow,
    IdempotencyKeyReused,
    CourseNotPlannable,
    CourseWindowBroken,
    SlotTaken,
    PatientDoubleBooked,
    InvalidTransition,
    AlreadyConverted,
    InquiryErased,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    RateLimited,
    ServiceUnavailable,
    Internal,
}

impl ProblemType {
    /// Every problem type, for documentation.
    pub const ALL: [ProblemType; 35] = [
        Self::ValidationFailed,
        Self::UnprocessableValues,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::SlugTaken,
        Self::Duplicate,
        Self::InUse,
        Self::ScheduleConflict,
        Self::OutsideWorkingHours,
        Self::ProviderOnTimeOff,
        Self::ProviderNotEligible,
        Self::TooShortNotice,
        Self::BeyondHorizon,
        Self::TimeWithoutOffset,
        Self::InactiveRecord,
        Self::TooEarly,
        Self::OutsideVisitWindow,
        Self::IdempotencyKeyReused,
        Self::CourseNotPlannable,
        Self::CourseWindowBroken,
        Self::SlotTaken,
        Self::PatientDoubleBooked,
        Self::InvalidTransition,
        Self::AlreadyConverted,
        Self::InquiryErased,
        Self::PreconditionFailed,
        Self::PreconditionRequired,
        Self::PayloadTooLarge,
        Self::RequestTimeout,
        Self::UnsupportedMediaType,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::Internal,
    ];

    /// The last segment of the type URI.
    pub fn slug(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation-failed",
            Self::UnprocessableValues => "unprocessable-values",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate-limited",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::SlugTaken => "slug-taken",
            Self::Duplicate => "duplicate",
            Self::InUse => "in-use",
            Self::ScheduleConflict => "schedule-conflict",
            Self::OutsideWorkingHours => "outside-working-hours",
            Self::ProviderOnTimeOff => "provider-on-time-off",
            Self::ProviderNotEligible => "provider-not-eligible",
            Self::TooShortNotice => "too-short-notice",
            Self::BeyondHorizon => "beyond-horizon",
            Self::TimeWithoutOffset => "time-without-offset",
            Self::InactiveRecord => "inactive-record",
            Self::TooEarly => "too-early",
            Self::OutsideVisitWindow => "outside-visit-window",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::CourseNotPlannable => "course-not-plannable",
            Self::CourseWindowBroken => "course-window-broken",
            Self::SlotTaken => "slot-taken",
            Self::PatientDoubleBooked => "patient-double-booked",
            Self::InvalidTransition => "invalid-transition",
            Self::AlreadyConverted => "already-converted",
            Self::InquiryErased => "inquiry-erased",
            Self::PreconditionFailed => "precondition-failed",
            Self::PreconditionRequired => "precondition-required",
            Self::PayloadTooLarge => "payload-too-large",
            Self::RequestTimeout => "request-timeout",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::ServiceUnavailable => "service-unavailable",
            Self::Internal => "internal-error",
        }
    }

    /// The problem's `type` member.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }

    /// The HTTP status a problem of this type carries.
    pub fn status(self) -> u16 {
        match self {
            Self::ValidationFailed => 400,
            Self::UnprocessableValues => 422,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::RateLimited => 429,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::SlugTaken | Self::Duplicate | Self::InUse | Self::ScheduleConflict => 409,
            Self::OutsideWorkingHours => 422,
            Self::ProviderOnTimeOff => 422,
            Self::ProviderNotEligible => 422,
            Self::TooShortNotice => 422,
            Self::BeyondHorizon => 422,
            Self::TimeWithoutOffset => 422,
            Self::InactiveRecord => 422,
            Self::TooEarly | Self::OutsideVisitWindow => 422,
            Self::IdempotencyKeyReused => 422,
            Self::CourseNotPlannable | Self::CourseWindowBroken => 422,
            Self::SlotTaken => 409,
            Self::PatientDoubleBooked => 409,
            Self::InvalidTransition | Self::AlreadyConverted | Self::InquiryErased => 409,
            Self::PreconditionFailed => 412,
            Self::PreconditionRequired => 428,
            Self::PayloadTooLarge => 413,
            Self::RequestTimeout => 408,
            Self::UnsupportedMediaType => 415,
            Self::ServiceUnavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The problem's `title`: the same for every occurrence of the type.
    pub fn title(self) -> &'static str {
        match self {
            Self::ValidationFailed => "The request is not valid",
            Self::UnprocessableValues => "A value breaks a rule",
            Self::Unauthorized => "A valid API key is required",
            Self::Forbidden => "The API key's role does not allow this",
            Self::RateLimited => "Too many requests",
            Self::NotFound => "The resource does not exist",
            Self::MethodNotAllowed => "The method is not allowed on this resource",
            Self::SlugTaken => "The slug is already taken",
            Self::Duplicate => "The record already exists",
            Self::InUse => "The resource is still in use",
            Self::ScheduleConflict => "The schedule change conflicts with existing entries",
            Self::OutsideWorkingHours => "The time is outside the provider's working hours",
            Self::ProviderOnTimeOff => "The provider is on time off",
            Self::ProviderNotEligible => "The provider cannot take this session",
            Self::TooShortNotice => "The start is too soon",
            Self::BeyondHorizon => "The start is too far ahead",
            Self::TimeWithoutOffset => "The time has no UTC offset",
            Self::InactiveRecord => "A record the request names is archived",
            Self::TooEarly => "Not possible before the session starts",
            Self::OutsideVisitWindow => "Not possible at this moment of the visit",
            Self::IdempotencyKeyReused => "The Idempotency-Key was used with another request",
            Self::CourseNotPlannable => "Not every session of the course can be placed",
            Self::CourseWindowBroken => "The move breaks the course's interval window",
            Self::SlotTaken => "The provider is already booked then",
            Self::PatientDoubleBooked => "The patient is already booked then",
            Self::InvalidTransition => "The resource cannot change this way",
            Self::AlreadyConverted => "The inquiry was converted already",
            Self::InquiryErased => "The inquiry's personal data was erased",
            Self::PreconditionFailed => "The resource has changed since it was read",
            Self::PreconditionRequired => "The request must be conditional",
            Self::PayloadTooLarge => "The request body is too large",
            Self::RequestTimeout => "The request body arrived too slowly",
            Self::UnsupportedMediaType => "The request body must be JSON",
            Self::ServiceUnavailable => "The service is temporarily unavailable",
            Self::Internal => "Internal server error",
        }
    }

    /// What it means and what a client should do, for the docs.
    pub fn description(self) -> &'static str {
        match self {
            Self::ValidationFailed => {
                "A field is missing, malformed or out of range; `errors` names each failing field."
            }
            Self::UnprocessableValues => {
                "The request fits the schema, but a value breaks a rule the schema cannot state: \
                 a record it names does not exist, an end comes before its start, a date lies in \
                 the future, a time zone is unknown. `errors` names each field."
            }
            Self::Unauthorized => {
                "No API key, or one that is unknown, revoked or expired: send `Authorization: Bearer <key>`."
            }
            Self::Forbidden => "The key is valid but its role may not perform this operation.",
            Self::RateLimited => "Slow down: retry after `Retry-After` seconds.",
            Self::NotFound => "No resource (or route) exists at this URL.",
            Self::MethodNotAllowed => "The URL exists but not with this method; see `Allow`.",
            Self::SlugTaken => "Another treatment area already uses this slug.",
            Self::Duplicate => "The same record exists already; `existing_id` names it.",
            Self::InUse => "Other records still refer to this one; change those first.",
            Self::ScheduleConflict => "The change would overlap an existing schedule entry.",
            Self::OutsideWorkingHours => {
                "The provider does not work at that location at that local time."
            }
            Self::ProviderOnTimeOff => "The provider has time off overlapping the session.",
            Self::ProviderNotEligible => {
                "The provider does not treat the area, does not work at the location, or is archived."
            }
            Self::TooShortNotice => "The start is earlier than the clinic's minimum notice allows.",
            Self::BeyondHorizon => "The start is later than the clinic's booking horizon allows.",
            Self::TimeWithoutOffset => {
                "Instants must carry an offset, e.g. 2027-03-15T09:00:00-06:00."
            }
            Self::InactiveRecord => {
                "An archived patient, location or treatment area cannot be booked."
            }
            Self::TooEarly => "A no-show can be recorded only once the start has passed.",
            Self::OutsideVisitWindow => {
                "A check-in is accepted from the clinic's check-in lead before the start until the end of the session's local day, a completion only once the start has passed; `allowed_from` and `allowed_until` name the window."
            }
            Self::IdempotencyKeyReused => "Send a new key for a different request.",
            Self::CourseWindowBroken => {
                "The neighbouring session (named in `detail`) would fall outside the window; send `force: true` to move anyway."
            }
            Self::CourseNotPlannable => {
                "Some sessions fit no window; `detail` names them. Plan with POST /v1/courses/plan to see why."
            }
            Self::SlotTaken => {
                "Another active session of the provider (with its buffer) overlaps this time."
            }
            Self::PatientDoubleBooked => {
                "The patient has another active session overlapping this time."
            }
            Self::InvalidTransition => {
                "Its current status (named in `detail`) does not allow the change."
            }
            Self::AlreadyConverted => {
                "The inquiry became a patient before; `patient_id` and `session_id` name what it became."
            }
            Self::InquiryErased => {
                "Past its retention period the inquiry keeps only what statistics count; it can no longer change."
            }
            Self::PreconditionFailed => {
                "`If-Match` does not match the current `ETag`: re-read and retry."
            }
            Self::PreconditionRequired => "Send the resource's current `ETag` in `If-Match`.",
            Self::PayloadTooLarge => "JSON bodies are limited to 64 KiB.",
            Self::RequestTimeout => {
                "A request body must arrive whole within 10 s; send it at once, then retry."
            }
            Self::UnsupportedMediaType => "Send `Content-Type: application/json`.",
            Self::ServiceUnavailable => {
                "The database cannot be reached right now; retry after `Retry-After` seconds."
            }
            Self::Internal => {
                "An unexpected error; it has been logged. The body reveals nothing more."
            }
        }
    }
}

/// A field that failed validation and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `interval_days.max` or `intervals[1].start`.
    #[schema(example = "time_zone")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "not a known IANA time zone")]
    pub message: String,
}

impl FieldError {
    /// A failure of `field` described by `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{} field(s) failed validation", .0.len())]
    Validation(Vec<FieldError>),
    /// Schema-valid values that break a rule the schema cannot state (422).
    #[error("{} field(s) break a rule", .0.len())]
    Rules(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("this operation is not allowed for the {0} role")]
    Forbidden(&'static str),
    #[error("too many requests; retry after {0} s")]
    RateLimited(u64),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A record that exists but that the caller may not see: answered exactly as
    /// [`AppError::NotFound`], and recorded in the audit trail as a denied attempt.
    #[error("{0} not found")]
    Concealed(&'static str),
    #[error("{1}")]
    Problem(ProblemType, String),
    #[error("{0}")]
    Duplicate(String, uuid::Uuid),
    #[error("the inquiry was converted already, to patient {patient_id}")]
    AlreadyConverted {
        patient_id: uuid::Uuid,
        session_id: Option<uuid::Uuid>,
    },
    #[error("{step} is accepted only {}", window_text(.from, .until))]
    OutsideVisitWindow {
        step: &'static str,
        from: chrono::DateTime<chrono::FixedOffset>,
        until: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    #[error("the resource has changed: its ETag no longer matches If-Match")]
    PreconditionFailed,
    #[error("this change requires an If-Match header with the resource's current ETag")]
    PreconditionRequired,
    #[error("the request body exceeds the limit")]
    PayloadTooLarge,
    #[error("the request body did not arrive within the deadline")]
    BodyTimeout,
    #[error("expected a body with Content-Type application/json")]
    UnsupportedMediaType,
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the transaction lost a race and may be retried")]
    Contention(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn window_text(
    from: &chrono::DateTime<chrono::FixedOffset>,
    until: &Option<chrono::DateTime<chrono::FixedOffset>>,
) -> String {
    match until {
        Some(until) => format!("from {} until {}", from.to_rfc3339(), until.to_rfc3339()),
        None => format!("from {} on", from.to_rfc3339()),
    }
}

impl AppError {
    /// One failing field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// One field whose well-formed value breaks a rule beyond the schema (a reference to a
    /// record that does not exist, an order between two fields, a date against the clock).
    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Rules(vec![FieldError::new(field, message)])
    }

    /// The problem type this error is reported as.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            Self::Validation(_) => ProblemType::ValidationFailed,
            Self::Rules(_) => ProblemType::UnprocessableValues,
            Self::Unauthorized(_) => ProblemType::Unauthorized,
            Self::Forbidden(_) => ProblemType::Forbidden,
            Self::RateLimited(_) => ProblemType::RateLimited,
            Self::NotFound(_) | Self::Concealed(_) => ProblemType::NotFound,
            Self::Problem(kind, _) => *kind,
            Self::Duplicate(..) => ProblemType::Duplicate,
            Self::AlreadyConverted { .. } => ProblemType::AlreadyConverted,
            Self::OutsideVisitWindow { .. } => ProblemType::OutsideVisitWindow,
            Self::PreconditionFailed => ProblemType::PreconditionFailed,
            Self::PreconditionRequired => ProblemType::PreconditionRequired,
            Self::PayloadTooLarge => ProblemType::PayloadTooLarge,
            Self::BodyTimeout => ProblemType::RequestTimeout,
            Self::UnsupportedMediaType => ProblemType::UnsupportedMediaType,
            Self::Unavailable(_) | Self::Contention(_) => ProblemType::ServiceUnavailable,
            Self::Internal(_) => ProblemType::Internal,
        }
    }
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => Self::NotFound("resource"),
            // The connection broke (the server went away mid-request): retry later.
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => Self::Unavailable(Box::new(error)),
            DieselError::DatabaseError(_, info) if server_going_away(info.message()) => {
                Self::Unavailable(Box::new(error))
            }
            // Concurrent transactions checking the same exclusion constraints can deadlock;
            // one is aborted and may simply run again.
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Contention(Box::new(error))
            }
            DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
                Self::Contention(Box::new(error))
            }
            DieselError::DatabaseError(_, info) => info
                .constraint_name()
                .and_then(constraint_violation)
                .unwrap_or_else(|| Self::Internal(Box::new(error))),
            _ => Self::Internal(Box::new(error)),
        }
    }
}

impl From<crate::db::PoolError> for AppError {
    fn from(error: crate::db::PoolError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

/// Whether PostgreSQL ended the session because it is shutting down, restarting or full.
/// diesel keeps only the message of these errors (SQLSTATE 57P01-57P03, 53300), not their
/// code, so they are told by PostgreSQL's (English) text.
fn server_going_away(message: &str) -> bool {
    const MESSAGES: [&str; 7] = [
        "terminating connection due to administrator command",
        "terminating connection due to unexpected postmaster exit",
        "terminating connection because of crash of another server process",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "sorry, too many clients already",
    ];
    MESSAGES.iter().any(|known| message.starts_with(known))
}

/// Maps a violated constraint, by name, to what the client did wrong. The database's own
/// message is never forwarded.
fn constraint_violation(constraint: &str) -> Option<AppError> {
    let error = match constraint {
        "treatment_areas_slug_key" => AppError::Problem(
            ProblemType::SlugTaken,
            "a treatment area with this slug already exists".into(),
        ),
        "provider_treatment_areas_treatment_area_id_fkey" => AppError::rule(
            "treatment_area_ids",
            "names a treatment area that does not exist",
        ),
        "provider_locations_location_id_fkey" => {
            AppError::rule("location_ids", "names a location that does not exist")
        }
        "working_hours_provider_location_fkey" => AppError::Problem(
            ProblemType::InUse,
            "the provider has working hours at a location it would no longer serve; \
             change the working hours first"
                .into(),
        ),
        "working_hours_no_overlap" => AppError::Problem(
            ProblemType::ScheduleConflict,
            "working-hour intervals of one provider overlap".into(),
        ),
        "time_off_provider_id_fkey" => AppError::NotFound("provider"),
        "sessions_provider_overlap" => AppError::Problem(
            ProblemType::SlotTaken,
            "the provider has another session (with its buffer) at that time".into(),
        ),
        "sessions_patient_overlap" => AppError::Problem(
            ProblemType::PatientDoubleBooked,
            "the patient has another session at that time".into(),
        ),
        "sessions_course_number_key" => AppError::Problem(
            ProblemType::SlotTaken,
            "the course already has a session with this number".into(),
        ),
        "courses_assessment_session_id_fkey" => {
            AppError::rule("assessment_session_id", "no session has this id")
        }
        "sessions_patient_id_fkey" => {
            AppError::rule("patient_id", "names a patient that does not exist")
        }
        "sessions_provider_id_fkey" => {
            AppError::rule("provider_id", "names a provider that does not exist")
        }
        "sessions_location_id_fkey" => {
            AppError::rule("location_id", "names a location that does not exist")
        }
        "sessions_treatment_area_id_fkey" => AppError::rule(
            "treatment_area_id",
            "names a treatment area that does not exist",
        ),
        "patients_identity_key" => AppError::Problem(
            ProblemType::Duplicate,
            "a patient with this email and date of birth exists already".into(),
        ),
        "api_keys_provider_id_fkey" => {
            AppError::rule("provider_id", "names a provider that does not exist")
        }
        _ => return None,
    };
    Some(error)
}
