//! `POST /v1/inquiries/{id}/convert`: an inquiry becomes a patient, optionally with a booked
//! session, in one transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::triage::erased;
use super::{Inquiry, audited, status_of};
use crate::api::patients::{ContactMethod, born_by_today};
use crate::api::sessions::{Session, parse_instant_field};
use crate::app::booking::book::{Book, book};
use crate::app::calendar::Parties;
use crate::domain::contact::normalize_email;
use crate::domain::inquiries::{may_convert, split_name, status_after_conversion};
use crate::domain::sessions::SessionKind;
use crate::error::{AppError, ProblemType};
use crate::http::auth::{Caller, StaffKey};
use crate::http::conditional::{Expected, IfMatch};
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;
use crate::models::inquiries::{self as model, InquiryChanges, InquiryEvent};
use crate::models::{audit_events, patients};

/// A new patient made from the inquiry: every field but `date_of_birth` defaults to what the
/// inquiry says (the name split at its last word).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct PatientFromInquiry {
    #[garde(inner(length(chars, min = 1, max = 100), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub given_name: Option<String>,
    #[garde(inner(length(chars, min = 1, max = 100), custom(rules::name)))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub family_name: Option<String>,
    #[garde(custom(rules::date_of_birth))]
    pub date_of_birth: NaiveDate,
    #[garde(inner(custom(rules::email)))]
    pub email: Option<String>,
    #[garde(inner(custom(rules::phone)))]
    pub phone: Option<String>,
    #[garde(skip)]
    pub preferred_contact: Option<ContactMethod>,
    #[garde(inner(length(chars, max = 10000), custom(rules::multi_line)))]
    #[schema(max_length = 10000, format = "multi-line")]
    pub notes: Option<String>,
}

/// The session to book for the new patient, usually the assessment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct SessionFromInquiry {
    #[garde(skip)]
    pub provider_id: Uuid,
    #[garde(skip)]
    pub location_id: Uuid,
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub kind: SessionKind,
    /// RFC 3339 with an offset.
    #[garde(length(max = 64))]
    #[schema(format = DateTime)]
    pub starts_at: String,
}

/// What the inquiry becomes: an existing patient (`patient_id`) or a new one (`patient`), and
/// optionally a booked session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "patient": {"date_of_birth": "1968-04-12"},
    "session": {
        "provider_id": "01a220a8-0ab0-711c-9d0c-b548723b66b8",
        "location_id": "01a220a8-0a75-7712-9d57-ec6ab303a5e2",
        "treatment_area_id": "01a220a8-0a9b-7d1c-8f0e-6d2a1b3c4d5e",
        "kind": "assessment", "starts_at": "2027-03-15T09:00:00-06:00"
    }
}))]
pub struct ConvertInquiry {
    /// An existing patient; exactly one of `patient_id` and `patient`.
    #[garde(custom(one_patient(&self.patient)))]
    pub patient_id: Option<Uuid>,
    #[garde(dive)]
    pub patient: Option<PatientFromInquiry>,
    #[garde(dive)]
    pub session: Option<SessionFromInquiry>,
}

fn one_patient(
    patient: &Option<PatientFromInquiry>,
) -> impl FnOnce(&Option<Uuid>, &()) -> garde::Result + '_ {
    move |patient_id, _| match (patient_id, patient) {
        (Some(_), Some(_)) => Err(crate::http::rules::beyond_schema(
            "give patient_id or patient, not both",
        )),
        (None, None) => Err(crate::http::rules::beyond_schema(
            "give patient_id (an existing patient) or patient (a new one)",
        )),
        _ => Ok(()),
    }
}

/// What the conversion made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conversion {
    /// The inquiry, now linked (`scheduled` when a session was booked).
    pub inquiry: Inquiry,
    pub patient_id: Uuid,
    pub session_id: Option<Uuid>,
    /// Whether the patient was created by this conversion.
    pub patient_created: bool,
    /// The booked session.
    pub session: Option<Session>,
}

/// Convert an inquiry
///
/// Links an existing patient or creates one from the inquiry's details (with overrides),
/// optionally books a session (the same rules and conflicts as `POST /v1/sessions`), and marks
/// the inquiry `scheduled` (`contacted` without a booking), all in one transaction: on any
/// refusal nothing is written. Converting again answers 409 `already-converted` naming the
/// patient and session; with `Idempotency-Key`, a retry replays the first answer. `If-Match` is
/// optional.
#[utoipa::path(
    tag = "inquiries",
    security(("bearer" = [])),
    request_body = ConvertInquiry,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body replay the first answer"),
        ("If-Match" = Option<String>, Header, description = "The inquiry's current ETag, to convert only that version"),
    ),
    responses(
        (status = 200, description = "Converted", body = Conversion),
        (status = 404, response = NotFound),
        (status = 409, description = "Converted before (`already-converted`, naming `patient_id` and `session_id`), closed or spam (`invalid-transition`), erased (`inquiry-erased`), a patient with the same email and date of birth exists (`duplicate`, with `existing_id`), or the slot is taken (`slot-taken`, `patient-double-booked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, response = PreconditionFailed),
        (status = 422, description = "A booking rule is broken (as for `POST /v1/sessions`), or the patient is archived (`inactive-record`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, AuthErrors, ServerErrors,
    )
)]
#[post("/inquiries/{id}/convert")]
pub async fn convert_inquiry(
    StaffKey(caller): StaffKey,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(body): Json<ConvertInquiry>,
) -> Result<HttpResponse, AppError> {
    let id = *id;
    let expected = if_match.optional();
    let start = body
        .session
        .as_ref()
        .map(|session| parse_instant_field("session.starts_at", &session.starts_at))
        .transpose()?;
    born_by_today(
        &state,
        "patient.date_of_birth",
        body.patient.as_ref().map(|p| p.date_of_birth),
    )?;
    let key = idempotency::key_from(&req)?;
    let now = state.now();
    let hash = idempotency::fingerprint(&(id, &body));
    let mut conn = state.conn().await?;
    let (answer, replayed) = idempotency::run_once(
        &mut conn,
        caller.key_id,
        key,
        "POST /v1/inquiries/{id}/convert",
        hash,
        now,
        || {
            let (body, caller) = (body.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let request = Request {
                        id,
                        expected,
                        start,
                        now,
                    };
                    let conversion = convert(conn, &caller, &body, request).await?;
                    Ok(Answer {
                        status: StatusCode::OK,
                        location: None,
                        etag: None,
                        body: serde_json::to_value(&conversion)
                            .map_err(|e| AppError::Internal(Box::new(e)))?,
                    })
                })
            }
        },
    )
    .await?;
    Ok(answer.respond(replayed))
}

/// What the conversion is asked beyond its body.
#[derive(Debug, Clone, Copy)]
struct Request {
    id: Uuid,
    expected: Expected,
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

async fn convert(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    body: &ConvertInquiry,
    request: Request,
) -> Result<Conversion, AppError> {
    let Request {
        id,
        expected,
        start,
        now,
    } = request;
    let current = model::find_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound("inquiry"))?;
    expected.check(current.version)?;
    if let Some(patient_id) = current.patient_id {
        return Err(AppError::AlreadyConverted {
            patient_id,
            session_id: current.session_id,
        });
    }
    if current.erased_at.is_some() {
        return Err(erased());
    }
    let from = status_of(&current);
    if !may_convert(from) {
        return Err(AppError::Problem(
            ProblemType::InvalidTransition,
            format!(
                "the inquiry is {}; reopen it before converting",
                from.as_str()
            ),
        ));
    }
    let (patient_id, patient_created) = match (&body.patient_id, &body.patient) {
        (Some(patient_id), _) => (existing_patient(conn, *patient_id).await?, false),
        (None, Some(new)) => (new_patient(conn, caller, &current, new).await?, true),
        (None, None) => return Err(AppError::field("patient", "is required")),
    };
    let session = match (&body.session, start) {
        (Some(wanted), Some(start)) => {
            let command = Book {
                parties: Parties {
                    patient_id,
                    provider_id: wanted.provider_id,
                    location_id: wanted.location_id,
                    treatment_area_id: wanted.treatment_area_id,
                },
                kind: wanted.kind,
                starts_at: start,
                course_id: None,
            };
            Some(Session::from_view(book(conn, caller, &command, now).await?))
        }
        _ => None,
    };
    let session_id = session.as_ref().map(|s| s.id);
    let to = status_after_conversion(from, session.is_some());
    let changes = InquiryChanges {
        status: Some(to),
        patient_id: Some(Some(patient_id)),
        session_id: Some(session_id),
        first_contacted_at: current.first_contacted_at.is_none().then_some(Some(now)),
        ..InquiryChanges::default()
    };
    let row = model::update(conn, id, changes, now).await?;
    let mut entry = InquiryEvent::new(id, Some(caller.key_id), "converted", Some(from), to, now);
    entry.patient_id = Some(patient_id);
    entry.session_id = session_id;
    model::add_event(conn, entry).await?;
    audit_events::append(conn, audited(caller, "inquiry.convert", &row, 200)).await?;
    Ok(Conversion {
        inquiry: Inquiry::from(row),
        patient_id,
        session_id,
        patient_created,
        session,
    })
}

async fn existing_patient(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Uuid, AppError> {
    let patient = patients::find(conn, id)
        .await?
        .ok_or_else(|| AppError::rule("patient_id", "names a patient that does not exist"))?;
    if patient.archived_at.is_some() {
        return Err(AppError::Problem(
            ProblemType::InactiveRecord,
            "the patient is archived".into(),
        ));
    }
    Ok(patient.id)
}

async fn new_patient(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    inquiry: &model::Inquiry,
    fields: &PatientFromInquiry,
) -> Result<Uuid, AppError> {
    let (given, family) = split_name(inquiry.name.as_deref().unwrap_or_default());
    let required = |value: Option<String>, field: &str| match value {
        None => Err(AppError::rule(
            format!("patient.{field}"),
            "is required: the inquiry's name does not give it",
        )),
        Some(name) if name.chars().count() > 100 => Err(AppError::rule(
            format!("patient.{field}"),
            "is required: the inquiry's name is longer than 100 characters",
        )),
        Some(name) => Ok(name),
    };
    let trimmed = |value: &Option<String>| value.as_deref().map(|v| v.trim().to_owned());
    let new = patients::NewPatient {
        id: Uuid::now_v7(),
        given_name: required(trimmed(&fields.given_name).or(given), "given_name")?,
        family_name: required(trimmed(&fields.family_name).or(family), "family_name")?,
        date_of_birth: fields.date_of_birth,
        email: fields
            .email
            .as_deref()
            .or(inquiry.email.as_deref())
            .map(normalize_email),
        phone: trimmed(&fields.phone).or_else(|| inquiry.phone.clone()),
        preferred_contact: fields
            .preferred_contact
            .map(|c| c.as_str().to_owned())
            .or_else(|| inquiry.preferred_contact.clone()),
        notes: fields.notes.clone(),
    };
    if let Some(email) = &new.email
        && let Some(existing) =
            patients::find_duplicate(conn, email, new.date_of_birth, None).await?
    {
        let detail = format!(
            "patient {existing} has the same email and date of birth: convert with patient_id"
        );
        return Err(AppError::Duplicate(detail, existing));
    }
    let row = patients::insert(conn, new).await?;
    let audit = caller
        .audit("patient.create", "patients", Some(row.id), 201)
        .patient(row.id);
    audit_events::append(conn, audit).await?;
    Ok(row.id)
}
