//! The one error type of the service and its stable problem types; the HTTP edge renders them
//! as RFC 9457 `application/problem+json` (`http::problem`).

mod database;
mod problem_type;

pub use problem_type::ProblemType;

use serde::Serialize;
use utoipa::ToSchema;

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
    /// No free resource carries `tag` at the session's location then.
    #[error("no resource tagged `{0}` is free at this location then")]
    ResourceUnavailable(String),
    /// Sessions still rely on the record; `session_ids` lists them.
    #[error("{detail}")]
    SessionsInUse {
        detail: String,
        session_ids: Vec<uuid::Uuid>,
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
            Self::ResourceUnavailable(_) => ProblemType::ResourceUnavailable,
            Self::SessionsInUse { .. } => ProblemType::InUse,
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
