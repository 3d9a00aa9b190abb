//! `POST /v1/bookings` (a visitor's details for a held slot; a code is mailed) and
//! `POST /v1/bookings/{id}/verify` (the code books the session).

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::inquiries::intake::must_be_true;
use crate::api::sessions::Session;
use crate::app::online::requests::{self, Request, Verification, Visitor};
use crate::error::{AppError, ProblemType};
use crate::http::auth::{Booker, TokenHolder};
use crate::http::extract::Json;
use crate::http::problems::*;
use crate::http::rules;
use crate::http::state::AppState;

/// Who books: a new patient, or a returning one (recognised by email and date of birth).
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct BookingPatient {
    #[garde(length(chars, min = 1, max = 100), custom(rules::name))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub given_name: String,
    #[garde(length(chars, min = 1, max = 100), custom(rules::name))]
    #[schema(min_length = 1, max_length = 100, format = "name")]
    pub family_name: String,
    #[garde(custom(rules::date_of_birth))]
    pub date_of_birth: NaiveDate,
    /// The code is mailed here.
    #[garde(custom(rules::email))]
    #[schema(max_length = 254, format = "email")]
    pub email: String,
    #[garde(inner(custom(rules::phone)))]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
}

/// A booking of a held slot.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "hold_id": "01a220a8-0b00-7d1c-8f0e-6d2a1b3c4d5e",
    "hold_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "patient": {"given_name": "Jordan", "family_name": "Reyes", "date_of_birth": "1968-04-12",
                "email": "jordan.reyes@example.com", "phone": "+1 303 555 0142"},
    "consent": true, "message": "Left knee, worse on stairs.", "website": ""
}))]
pub struct CreateBooking {
    #[garde(skip)]
    pub hold_id: Uuid,
    #[garde(length(max = 128))]
    #[schema(max_length = 128)]
    pub hold_token: String,
    #[garde(dive)]
    pub patient: BookingPatient,
    /// Must be `true`: the visitor agrees that the clinic keeps their details to see them.
    #[garde(custom(must_be_true))]
    #[schema(schema_with = consent_schema)]
    pub consent: bool,
    /// Anything the clinic should know before the visit; the front desk finds it as an
    /// inquiry linked to the session.
    #[garde(inner(length(chars, min = 1, max = 2000), custom(rules::message)))]
    #[schema(min_length = 1, max_length = 2000, format = "message")]
    pub message: Option<String>,
    /// Leave empty. A field the page hides from people: a request that fills it is answered
    /// 202 like any other, and nothing is stored or mailed.
    #[garde(skip)]
    pub website: Option<String>,
}

fn consent_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Boolean)
        .enum_values(Some([true]))
        .description(Some(
            "Must be `true`: the visitor agrees that the clinic keeps their details to see them.",
        ))
        .build()
}

/// A booking waiting for its code.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingRequested {
    pub id: Uuid,
    #[schema(example = "awaiting_verification")]
    pub status: &'static str,
    /// When the mailed code stops working (15 minutes); the slot is held as long. In the
    /// location's zone.
    #[schema(value_type = String, format = DateTime, example = "2027-03-01T10:15:00-07:00")]
    pub expires_at: DateTime<FixedOffset>,
    /// Seconds from this answer to `expires_at`.
    #[schema(example = 900)]
    pub expires_in_seconds: i64,
}

/// Request a booking
///
/// Takes the visitor's details for a live hold and mails a six-digit code to their email; the
/// slot stays held while the code lives (15 minutes). Nothing is booked until the code is sent
/// to `POST /v1/bookings/{id}/verify`. A new request for the same hold replaces the previous
/// one. The answer is the same whether or not the clinic knows the visitor. Each client IP may
/// send `PROLO_RATE_LIMIT_BOOKINGS` requests an hour (10 by default), besides the public limit;
/// a request beyond it mails nothing. When the code cannot be mailed, the answer is 503 and
/// nothing is kept: send it again.
#[utoipa::path(
    tag = "online booking",
    request_body = CreateBooking,
    responses(
        (status = 202, description = "The code is mailed", body = BookingRequested),
        (status = 409, response = HoldExpired),
        (status = 422, response = UnprocessableValues),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/bookings")]
pub async fn create_booking(
    Booker(caller, _): Booker,
    state: web::Data<AppState>,
    Json(body): Json<CreateBooking>,
) -> Result<HttpResponse, AppError> {
    let command = Request {
        hold_id: body.hold_id,
        hold_token: body.hold_token,
        visitor: Visitor {
            given_name: body.patient.given_name,
            family_name: body.patient.family_name,
            date_of_birth: body.patient.date_of_birth,
            email: body.patient.email,
            phone: body.patient.phone,
        },
        message: body.message,
        honeypot: body.website.is_some_and(|w| !w.trim().is_empty()),
    };
    let now = state.now();
    let mut conn = state.conn().await?;
    let requested = conn
        .transaction::<_, AppError, _>(async |conn| {
            requests::request(conn, &caller, command, now).await
        })
        .await?;
    if let Some(letter) = &requested.letter
        && let Err(unsent) = state.send_mail(letter).await
    {
        // Nobody can use a code that never arrived: the request goes, the hold stays.
        conn.transaction::<_, AppError, _>(async |conn| {
            requests::abandon(conn, requested.id).await
        })
        .await?;
        return Err(unsent);
    }
    Ok(HttpResponse::Accepted().json(BookingRequested {
        id: requested.id,
        status: "awaiting_verification",
        expires_at: requested
            .expires_at
            .with_timezone(&requested.zone)
            .fixed_offset(),
        expires_in_seconds: (requested.expires_at - now).num_seconds(),
    }))
}

/// The code from the email.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "042917"}))]
pub struct VerifyBooking {
    #[garde(custom(six_digits))]
    #[schema(pattern = r"^[0-9]{6}$")]
    pub code: String,
}

fn six_digits(code: &str, _: &()) -> garde::Result {
    match code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        true => Ok(()),
        false => Err(garde::Error::new("must be the six digits of the code")),
    }
}

/// The booked session and the patient's link to manage it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingVerified {
    pub session: Session,
    /// Opens the booking page on this session: it shows it, cancels it, or moves it. The
    /// token in it is shown once; it dies when the session moves (a new link is given), is
    /// cancelled, or ends.
    #[schema(
        example = "https://clinic.example/book#manage=5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90"
    )]
    pub manage_url: String,
}

/// Verify a booking
///
/// The right code books the held slot for the patient (a returning patient, by email and date
/// of birth, keeps their record), by the same rules as every booking, and the confirmation is
/// mailed. A wrong code is 422 `wrong-code` saying how many tries are left; the fifth voids the
/// request and frees the slot. After 15 minutes, or once verified or void, the request is 409
/// `booking-request-closed`. Codes are stored hashed and compared in constant time; each
/// client IP may try `PROLO_RATE_LIMIT_TOKENS` times a minute.
#[utoipa::path(
    tag = "online booking",
    request_body = VerifyBooking,
    params(("id" = Uuid, Path, description = "The booking request")),
    responses(
        (status = 201, description = "Booked", body = BookingVerified),
        (status = 404, response = NotFound),
        (status = 409, response = BookingRequestClosed),
        (status = 422, description = "`wrong-code` (the tries left are in `detail`; the fifth voids the request), or `unprocessable-values`", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/bookings/{id}/verify")]
pub async fn verify_booking(
    TokenHolder(caller): TokenHolder,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<VerifyBooking>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let now = state.now();
    let mut conn = state.conn().await?;
    // Every outcome commits: a wrong code must count even though it is refused.
    let outcome = conn
        .transaction::<_, AppError, _>(async |conn| {
            requests::verify(conn, &caller, id, &body.code, now).await
        })
        .await?;
    match outcome {
        Verification::Booked { view, manage_token } => {
            Ok(HttpResponse::Created().json(BookingVerified {
                session: Session::from_view(*view),
                manage_url: super::manage_url(&state, &manage_token),
            }))
        }
        Verification::Wrong { remaining } => Err(AppError::Problem(
            ProblemType::WrongCode,
            format!("the code is not the one mailed; {remaining} tries left"),
        )),
        Verification::Voided => Err(AppError::Problem(
            ProblemType::WrongCode,
            "the code is not the one mailed, five times: the request is void and the time \
             released; hold a time again"
                .into(),
        )),
        Verification::Expired => Err(AppError::Problem(
            ProblemType::BookingRequestClosed,
            "the code expired: send the booking again".into(),
        )),
    }
}
