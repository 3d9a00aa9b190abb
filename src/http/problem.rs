//! RFC 9457 `application/problem+json`: the one place that renders an [`AppError`].

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, FieldError, ProblemType};

/// Content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying when the database is unavailable.
const RETRY_AFTER_SECONDS: &str = "2";

/// The HTTP status of a problem type.
pub fn status_code(kind: ProblemType) -> StatusCode {
    StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An RFC 9457 problem document as sent to clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the problem type (a URI reference).
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-failed")]
    pub problem_type: String,
    /// Short summary of the problem type.
    #[schema(example = "The request is not valid")]
    pub title: String,
    /// HTTP status code.
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong in this occurrence.
    #[schema(example = "1 field failed validation")]
    pub detail: String,
    /// The failing fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `duplicate`: the id of the record that exists already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
    /// For `already-converted`: the patient the inquiry became.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<uuid::Uuid>,
    /// For `already-converted`: the session booked by the conversion, if one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<uuid::Uuid>,
    /// For `resource-unavailable`: the tag no free resource carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ultrasound")]
    pub tag: Option<String>,
    /// For `in-use`: the sessions that still rely on the record, by start.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub session_ids: Vec<uuid::Uuid>,
    /// For `outside-visit-window`: the first moment the step is accepted, in the location's zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_from: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// For `outside-visit-window`: the moment the step is no longer accepted, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_until: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl Problem {
    /// A problem of `kind` with `detail` and the failing fields.
    pub fn new(kind: ProblemType, detail: String, errors: Vec<FieldError>) -> Self {
        Self {
            problem_type: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail,
            errors,
            existing_id: None,
            patient_id: None,
            session_id: None,
            tag: None,
            session_ids: Vec::new(),
            allowed_from: None,
            allowed_until: None,
        }
    }
}

/// Builds a problem response of `kind`.
pub fn problem_response(
    kind: ProblemType,
    detail: String,
    errors: Vec<FieldError>,
) -> HttpResponse {
    render(kind, Problem::new(kind, detail, errors))
}

/// The one place that writes `application/problem+json`.
fn render(kind: ProblemType, problem: Problem) -> HttpResponse {
    let mut response = HttpResponse::build(status_code(kind));
    response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    if kind == ProblemType::ServiceUnavailable {
        response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
    }
    response.json(problem)
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status_code(self.problem_type())
    }

    fn error_response(&self) -> HttpResponse {
        let kind = self.problem_type();
        let detail = match self {
            AppError::Internal(cause)
            | AppError::Unavailable(cause)
            | AppError::Contention(cause) => {
                // The cause chain goes to the log only: it may hold SQL or connection details.
                let mut chain = cause.to_string();
                let mut source = cause.source();
                while let Some(inner) = source {
                    chain.push_str(": ");
                    chain.push_str(&inner.to_string());
                    source = inner.source();
                }
                tracing::error!(problem = kind.slug(), cause = %chain, "request failed");
                kind.title().to_owned()
            }
            other => other.to_string(),
        };
        let errors = match self {
            AppError::Validation(errors) | AppError::Rules(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let mut problem = Problem::new(kind, detail, errors);
        match self {
            AppError::Duplicate(_, existing) => problem.existing_id = Some(*existing),
            AppError::AlreadyConverted {
                patient_id,
                session_id,
            } => {
                problem.patient_id = Some(*patient_id);
                problem.session_id = *session_id;
            }
            AppError::ResourceUnavailable(tag) => problem.tag = Some(tag.clone()),
            AppError::SessionsInUse { session_ids, .. } => {
                problem.session_ids = session_ids.clone();
            }
            AppError::OutsideVisitWindow { from, until, .. } => {
                problem.allowed_from = Some(*from);
                problem.allowed_until = *until;
            }
            _ => {}
        }
        let mut response = render(kind, problem);
        let headers = response.headers_mut();
        match self {
            AppError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            AppError::RateLimited(seconds) => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from(*seconds));
            }
            _ => {}
        }
        response
    }
}

/// A problem for a bare status produced outside the handlers (by actix itself).
pub fn problem_for_status(status: StatusCode) -> HttpResponse {
    let known = ProblemType::ALL
        .into_iter()
        .find(|kind| kind.status() == status.as_u16());
    match known {
        Some(kind) if kind != ProblemType::ValidationFailed => {
            problem_response(kind, kind.title().to_owned(), vec![])
        }
        _ => {
            let title = status.canonical_reason().unwrap_or("Error");
            HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
                .json(Problem {
                    problem_type: "about:blank".into(),
                    title: title.to_owned(),
                    status: status.as_u16(),
                    ..Problem::new(ProblemType::Internal, title.to_owned(), vec![])
                })
        }
    }
}
