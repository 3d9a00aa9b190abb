//! `POST /v1/inquiries`: the website's contact form, open to anyone.

use actix_web::{HttpRequest, HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::PreferredTimes;
use crate::app::inquiries::intake::{self, Submission};
use crate::domain::contact::ContactMethod;
use crate::domain::inquiries::{InquiryKind, InquiryStatus, SymptomDuration};
use crate::error::AppError;
use crate::http::auth::Intake;
use crate::http::extract::Json;
use crate::http::problems::{BodyErrors, PublicErrors, ServerErrors};
use crate::http::rules;
use crate::http::state::AppState;

/// A message from the website's "ask a question or book an appointment" form.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({
        "name": "Jordan Reyes", "email": "jordan.reyes@example.com", "kind": "question",
        "message": "Can prolotherapy help with tennis elbow?", "consent": true,
        "treatment_area": "elbow", "source_page": "https://clinic.example/elbow"
    }),
    json!({
        "name": "Sam Ortiz", "phone": "+1 303 555 0142", "kind": "appointment_request",
        "message": "My left knee has hurt on stairs for a year.", "consent": true,
        "treatment_area": "knee", "symptom_duration": "over_a_year", "preferred_contact": "phone",
        "preferred_times": [{"weekday": "tuesday", "start": "08:00", "end": "12:00"}],
        "source_page": "https://clinic.example/contact", "website": ""
    })
))]
pub struct SubmitInquiry {
    /// The visitor's name as they write it.
    #[garde(length(chars, min = 1, max = 200), custom(rules::name))]
    #[schema(min_length = 1, max_length = 200, format = "name")]
    pub name: String,
    /// An email, a phone number, or both, are required.
    #[garde(inner(custom(rules::email)), custom(reachable(&self.phone)))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[garde(inner(custom(rules::phone)))]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    #[garde(skip)]
    pub kind: InquiryKind,
    #[garde(length(chars, min = 1, max = 5000), custom(rules::message))]
    #[schema(min_length = 1, max_length = 5000, format = "message")]
    pub message: String,
    /// Must be `true`: the visitor agrees that the clinic keeps the message to answer it.
    #[garde(custom(must_be_true))]
    #[schema(schema_with = consent_schema)]
    pub consent: bool,
    /// The slug of the treatment area asked about, e.g. `knee`.
    #[garde(inner(custom(rules::slug)))]
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub treatment_area: Option<String>,
    #[garde(skip)]
    pub symptom_duration: Option<SymptomDuration>,
    /// How the visitor would like to be answered; needs the matching email or phone.
    #[garde(custom(contact_given(&self.email, &self.phone)))]
    pub preferred_contact: Option<ContactMethod>,
    #[garde(dive)]
    pub preferred_times: Option<PreferredTimes>,
    /// The page of the website the form was sent from.
    #[garde(inner(length(chars, max = 2000), custom(rules::single_line)))]
    #[schema(max_length = 2000, format = "single-line")]
    pub source_page: Option<String>,
    /// Leave empty. A field the form hides from people: whatever a bot writes here marks the
    /// inquiry as spam (it is still answered 201 like any other).
    #[garde(skip)]
    pub website: Option<String>,
}

fn reachable(phone: &Option<String>) -> impl FnOnce(&Option<String>, &()) -> garde::Result + '_ {
    move |email, _| match (email, phone) {
        (None, None) => Err(crate::http::rules::beyond_schema(
            "an email or a phone number (or both) is required",
        )),
        _ => Ok(()),
    }
}

/// `consent` in the schema: a boolean that must be `true`.
pub fn consent_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Boolean)
        .enum_values(Some([true]))
        .description(Some(
            "Must be `true`: the visitor agrees that the clinic keeps the message to answer it.",
        ))
        .build()
}

pub fn must_be_true(consent: &bool, _: &()) -> garde::Result {
    if *consent {
        Ok(())
    } else {
        Err(garde::Error::new(
            "must be true: the clinic keeps the message only with consent",
        ))
    }
}

fn contact_given<'a>(
    email: &'a Option<String>,
    phone: &'a Option<String>,
) -> impl FnOnce(&Option<ContactMethod>, &()) -> garde::Result + 'a {
    move |method, _| match method {
        Some(ContactMethod::Email) if email.is_none() => Err(crate::http::rules::beyond_schema(
            "is email, but no email is given",
        )),
        Some(ContactMethod::Phone | ContactMethod::Sms) if phone.is_none() => Err(
            crate::http::rules::beyond_schema("needs a phone number, but none is given"),
        ),
        _ => Ok(()),
    }
}

/// What the form is told: nothing of what it sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryReceived {
    pub id: Uuid,
    /// Always `new`.
    #[schema(example = "new")]
    pub status: InquiryStatus,
}

/// Send an inquiry
///
/// The website's contact form: no key needed. Answers only the inquiry's id; an inquiry from
/// the same email or phone within 24 hours is linked to the earlier one as a likely duplicate.
/// Without a key, each client IP may send a limited number an hour (429 with `Retry-After`).
#[utoipa::path(
    tag = "inquiries",
    request_body = SubmitInquiry,
    responses(
        (status = 201, description = "Received", body = InquiryReceived,
            example = json!({"id": "01938f2e-7b3c-7d10-9a1e-4c2b8d6f0a11", "status": "new"})),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/inquiries")]
pub async fn submit_inquiry(
    sender: Intake,
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<SubmitInquiry>,
) -> Result<HttpResponse, AppError> {
    let submission = Submission {
        name: body.name,
        email: body.email,
        phone: body.phone,
        kind: body.kind,
        message: body.message,
        treatment_area: body.treatment_area,
        symptom_duration: body.symptom_duration,
        preferred_contact: body.preferred_contact,
        preferred_times: body
            .preferred_times
            .map(|times| serde_json::to_value(times).map_err(|e| AppError::Internal(Box::new(e))))
            .transpose()?,
        source_page: body.source_page,
        honeypot: body
            .website
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty()),
    };
    let (sender, now) = (sender.sender(&req), state.now());
    let mut conn = state.conn().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |conn| {
            intake::receive(conn, &sender, submission, now).await
        })
        .await?;
    let id = row.id;
    // A bot is told exactly what a person is told.
    Ok(HttpResponse::Created().json(InquiryReceived {
        id,
        status: InquiryStatus::New,
    }))
}
