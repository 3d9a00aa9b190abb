//! A visitor's booking request: their details and a mailed code, then the code books the
//! session through the same booking use case as the front desk's.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::held;
use crate::app::booking::book::{self, Book};
use crate::app::calendar::{Parties, SessionView};
use crate::app::caller::Caller;
use crate::app::inquiries::intake::{OnlineNote, note_online_booking};
use crate::app::notifications::compose::{kind_label, local_when, place_of, provider_label};
use crate::app::notifications::render::{CodeContext, render_code};
use crate::app::patients::{self, PatientDetails, born_by};
use crate::domain::contact::normalize_email;
use crate::domain::notifications::Letter;
use crate::domain::online::{
    CODE_MINUTES, RequestStatus, Verdict, code_hash, code_matches, generate_code, judge,
};
use crate::domain::patients::PatientSource;
use crate::error::{AppError, ProblemType};
use crate::models::booking_requests::{self as model, NewBookingRequest};
use crate::models::{audit_events, holds, settings};

/// Who books: the visitor's own details.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub email: String,
    pub phone: Option<String>,
}

/// A booking request for a held slot.
#[derive(Debug, Clone)]
pub struct Request {
    pub hold_id: Uuid,
    pub hold_token: String,
    pub visitor: Visitor,
    pub message: Option<String>,
    /// The form's hidden field was filled: a bot. It is answered like anyone, and nothing is
    /// stored or mailed.
    pub honeypot: bool,
}

/// A request stored, and the mail carrying its code (none for a bot).
#[derive(Debug, Clone)]
pub struct Requested {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
    /// The zone of the held slot's location, to speak its instants in.
    pub zone: chrono_tz::Tz,
    pub letter: Option<Letter>,
}

/// Stores the request with the hash of a new six-digit code, keeps the hold as long as the
/// code lives (15 minutes), voids earlier requests for the same hold, and writes the mail that
/// carries the code. The caller sends the mail once this has committed.
pub async fn request(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: Request,
    now: DateTime<Utc>,
) -> Result<Requested, AppError> {
    let hold = held(conn, command.hold_id, &command.hold_token, now).await?;
    born_by(
        "patient.date_of_birth",
        Some(command.visitor.date_of_birth),
        now,
    )?;
    let id = Uuid::now_v7();
    let expires_at = now + Duration::minutes(CODE_MINUTES);
    if command.honeypot {
        return Ok(Requested {
            id,
            expires_at,
            zone: crate::app::calendar::zone_of(conn, hold.location_id).await?,
            letter: None,
        });
    }
    model::void_waiting_on(conn, hold.id).await?;
    let code = generate_code().map_err(|e| AppError::Internal(Box::new(e)))?;
    let visitor = command.visitor;
    let email = normalize_email(&visitor.email);
    model::insert(
        conn,
        NewBookingRequest {
            id,
            hold_id: hold.id,
            status: RequestStatus::AwaitingVerification,
            given_name: Some(visitor.given_name.trim().to_owned()),
            family_name: Some(visitor.family_name.trim().to_owned()),
            date_of_birth: Some(visitor.date_of_birth),
            email: Some(email.clone()),
            phone: visitor.phone.map(|phone| phone.trim().to_owned()),
            message: command.message,
            code_hash: code_hash(id, &code).to_vec(),
            created_at: now,
            expires_at,
        },
    )
    .await?;
    if hold.expires_at < expires_at {
        holds::extend(conn, hold.id, expires_at).await?;
    }
    audit_events::append(
        conn,
        caller.audit("booking.request", "booking_requests", Some(id), 202),
    )
    .await?;
    let place = place_of(
        conn,
        hold.location_id,
        hold.provider_id,
        hold.treatment_area_id,
    )
    .await?;
    let settings = settings::get(conn).await?;
    let clinic = settings
        .sender_name
        .clone()
        .unwrap_or_else(|| place.location.name.clone());
    let context = CodeContext {
        subject: format!("{code} is your code to confirm your booking"),
        clinic,
        given_name: visitor.given_name.trim().to_owned(),
        code,
        minutes: CODE_MINUTES,
        what: format!("{} — {}", kind_label(hold.kind), place.area.name),
        when: local_when(hold.starts_at, place.zone),
        location: format!(
            "{}, with {}",
            place.location.name,
            provider_label(&place.provider)
        ),
    };
    let (text, html) = render_code(&context)?;
    let letter = Letter {
        notification_id: id,
        to: email,
        to_name: format!(
            "{} {}",
            visitor.given_name.trim(),
            visitor.family_name.trim()
        ),
        sender_name: settings.sender_name,
        reply_to: settings.reply_to,
        subject: context.subject,
        text,
        html,
        unsubscribe_url: None,
        invites: Vec::new(),
    };
    Ok(Requested {
        id,
        expires_at,
        zone: place.zone,
        letter: Some(letter),
    })
}

/// What a code did.
#[derive(Debug, Clone)]
pub enum Verification {
    /// Booked: the session, and the manage link's token (shown once).
    Booked {
        view: Box<SessionView>,
        manage_token: String,
    },
    /// Wrong; this many tries are left.
    Wrong { remaining: i16 },
    /// Wrong for the fifth time: the request is void and its hold released.
    Voided,
    /// The code's 15 minutes are over: the request is void.
    Expired,
}

/// Checks `code` against the request `id`. A right code finds the patient by email and date of
/// birth (or registers them) and books the held slot with `book::book`; a wrong one is
/// counted. The caller commits every outcome: a count must stick even though it is a refusal.
pub async fn verify(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Verification, AppError> {
    let Some(request) = model::find_for_update(conn, id).await? else {
        return Err(AppError::NotFound("booking request"));
    };
    if request.status != RequestStatus::AwaitingVerification {
        return Err(AppError::Problem(
            ProblemType::BookingRequestClosed,
            "the booking request was verified or voided already: send the booking again".into(),
        ));
    }
    let matches = code_matches(&request.code_hash, id, code);
    match judge(matches, request.attempts, request.expires_at, now) {
        Verdict::Expired => {
            model::settle(conn, id, RequestStatus::Void, None).await?;
            Ok(Verification::Expired)
        }
        Verdict::Wrong { remaining } => {
            model::count_attempt(conn, id).await?;
            Ok(Verification::Wrong { remaining })
        }
        Verdict::Exhausted => {
            model::count_attempt(conn, id).await?;
            model::settle(conn, id, RequestStatus::Void, None).await?;
            holds::release(conn, request.hold_id, now).await?;
            Ok(Verification::Voided)
        }
        Verdict::Book => book_request(conn, caller, request, now).await,
    }
}

async fn book_request(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    request: model::BookingRequest,
    now: DateTime<Utc>,
) -> Result<Verification, AppError> {
    let missing = || AppError::Internal("a waiting booking request lacks its details".into());
    let (Some(given_name), Some(family_name), Some(date_of_birth), Some(email)) = (
        request.given_name.clone(),
        request.family_name.clone(),
        request.date_of_birth,
        request.email.clone(),
    ) else {
        return Err(missing());
    };
    let full_name = format!("{given_name} {family_name}");
    let hold = holds::find_for_update(conn, request.hold_id)
        .await?
        .ok_or_else(missing)?;
    // The same person is the same record, found by the duplicate rule; the answer is the same
    // either way, so the page never tells whether a record existed.
    let patient_id =
        match crate::models::patients::find_duplicate(conn, &email, date_of_birth, None).await? {
            Some(id) => id,
            None => {
                let details = PatientDetails {
                    given_name,
                    family_name,
                    date_of_birth,
                    email: Some(email),
                    phone: request.phone.clone(),
                    preferred_contact: None,
                    notes: None,
                    email_notifications: true,
                    source: PatientSource::Online,
                };
                patients::create(conn, caller, details, "", now).await?.id
            }
        };
    holds::release(conn, hold.id, now).await?;
    let command = Book {
        parties: Parties {
            patient_id,
            provider_id: hold.provider_id,
            location_id: hold.location_id,
            treatment_area_id: hold.treatment_area_id,
        },
        kind: hold.kind,
        starts_at: hold.starts_at,
        course_id: None,
    };
    let view = book::book(conn, caller, &command, now).await?;
    if let Some(message) = request.message.clone() {
        let note = OnlineNote {
            name: full_name,
            email: request.email.clone().unwrap_or_default(),
            phone: request.phone.clone(),
            message,
            treatment_area_id: hold.treatment_area_id,
            patient_id,
            session_id: view.row.id,
            consented_at: request.created_at,
        };
        note_online_booking(conn, caller, note, now).await?;
    }
    model::settle(conn, request.id, RequestStatus::Verified, Some(view.row.id)).await?;
    let manage_token = super::manage::issue(conn, view.row.id, now).await?;
    audit_events::append(
        conn,
        caller
            .audit("booking.verify", "booking_requests", Some(request.id), 201)
            .patient(patient_id),
    )
    .await?;
    Ok(Verification::Booked {
        view: Box::new(view),
        manage_token,
    })
}

/// Drops a request whose code could not be mailed (its details erased); its hold stays.
pub async fn abandon(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), AppError> {
    model::settle(conn, id, RequestStatus::Void, None).await?;
    Ok(())
}

/// Voids the requests whose code lapsed unused and erases their details (the hourly purge of
/// `serve`): a visitor who never entered the code leaves nothing personal behind.
pub async fn erase_lapsed(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    Ok(model::erase_expired(conn, now).await?)
}
