//! `POST /v1/inquiries/{id}/convert`: an inquiry becomes a patient, optionally with a booked
//! session, in one transaction.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Inquiry;
use crate::api::sessions::{Session, parse_instant_field};
use crate::app::inquiries::convert::{Becomes, Convert, NewPatientFields, SessionWanted, convert};
use crate::domain::contact::ContactMethod;
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::StaffKey;
use crate::http::conditional::IfMatch;
use crate::http::extract::Json;
use crate::http::idempotency::{self, Answer};
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;

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
    let patient = match (body.patient_id, &body.patient) {
        (Some(patient_id), _) => Becomes::Existing(patient_id),
        (None, Some(new)) => Becomes::New(NewPatientFields {
            given_name: new.given_name.clone(),
            family_name: new.family_name.clone(),
            date_of_birth: new.date_of_birth,
            email: new.email.clone(),
            phone: new.phone.clone(),
            preferred_contact: new.preferred_contact,
            notes: new.notes.clone(),
        }),
        (None, None) => return Err(AppError::field("patient", "is required")),
    };
    let session = match &body.session {
        Some(wanted) => Some(SessionWanted {
            provider_id: wanted.provider_id,
            location_id: wanted.location_id,
            treatment_area_id: wanted.treatment_area_id,
            kind: wanted.kind,
            starts_at: parse_instant_field("session.starts_at", &wanted.starts_at)?,
        }),
        None => None,
    };
    let command = Convert {
        id: *id,
        expected: if_match.optional(),
        patient,
        session,
    };
    let now = state.now();
    idempotency::respond_once(
        &state,
        &req,
        caller.key_id,
        "POST /v1/inquiries/{id}/convert",
        &(command.id, &body),
        now,
        || {
            let (command, caller) = (command.clone(), caller.clone());
            move |conn| -> idempotency::Work<'_> {
                Box::pin(async move {
                    let converted = convert(conn, &caller, &command, now).await?;
                    let conversion = Conversion {
                        inquiry: Inquiry::from(converted.inquiry),
                        patient_id: converted.patient_id,
                        session_id: converted.session.as_ref().map(|s| s.row.id),
                        patient_created: converted.patient_created,
                        session: converted.session.map(Session::from_view),
                    };
                    Answer::of(StatusCode::OK, None, None, &conversion)
                })
            }
        },
    )
    .await
}
