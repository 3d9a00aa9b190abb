//! `/v1/waitlist/offers/{token}`: the offer a waiting patient was emailed. `GET` shows it and
//! changes nothing (mail scanners follow links); `POST …/accept` takes the time. An unknown
//! token is a 404.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::online::manage::{ManagedMove, ManagedSession, Named, private, well_formed};
use crate::app::online::manage;
use crate::app::waitlist::accept::{self, Accepted, OfferView};
use crate::domain::sessions::SessionKind;
use crate::domain::waitlist::OfferStatus;
use crate::error::{AppError, ProblemType};
use crate::http::auth::TokenHolder;
use crate::http::extract::optional_json;
use crate::http::problems::*;
use crate::http::state::AppState;
use crate::models::sessions;

/// An offer as its patient sees it through the link.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistOffer {
    /// `open` until accepted, taken by someone else, closed or expired.
    pub status: OfferStatus,
    pub kind: SessionKind,
    /// In the location's time zone, with its offset.
    #[schema(value_type = String, format = DateTime, example = "2027-01-05T09:00:00-07:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-01-05T09:45:00-07:00")]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(example = "America/Denver")]
    pub time_zone: String,
    pub location: Named,
    #[schema(example = "1 Main St, Denver")]
    pub address: Option<String>,
    pub provider: Named,
    pub treatment_area: Named,
    /// The last moment it can be accepted.
    #[schema(value_type = String, format = DateTime, example = "2027-01-04T10:30:00-07:00")]
    pub expires_at: DateTime<FixedOffset>,
    /// The time of the patient's session that accepting moves here (absent: a new session
    /// is booked).
    #[schema(value_type = Option<String>, format = DateTime, example = "2027-01-19T09:00:00-07:00")]
    pub moves_session_from: Option<DateTime<FixedOffset>>,
    /// Accepting moves a course session so much earlier that its later sessions must move
    /// along to keep their interval windows: accept with `cascade: true`.
    pub cascade_required: bool,
}

async fn shown(conn: &mut crate::db::DbConn, view: OfferView) -> Result<WaitlistOffer, AppError> {
    let OfferView {
        offer,
        entry,
        place,
        cascade_required,
    } = view;
    let zone = place.zone;
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).fixed_offset();
    let moves_session_from = match entry.session_id {
        Some(id) => sessions::find(conn, id).await?.map(|s| local(s.starts_at)),
        None => None,
    };
    Ok(WaitlistOffer {
        status: offer.status,
        kind: entry.kind,
        starts_at: local(offer.starts_at),
        ends_at: local(offer.ends_at),
        time_zone: zone.name().to_owned(),
        location: Named {
            id: place.location.id,
            name: place.location.name,
        },
        address: place.location.address,
        provider: Named {
            id: place.provider.id,
            name: place.provider.name,
        },
        treatment_area: Named {
            id: place.area.id,
            name: place.area.name,
        },
        expires_at: local(offer.expires_at),
        moves_session_from,
        cascade_required,
    })
}

/// Show a waitlist offer
///
/// The time offered, where and with whom, until when it can be taken, and the session it
/// would move. Reading it changes nothing.
#[utoipa::path(
    tag = "waitlist",
    params(("token" = String, Path, description = "The token of the offer's link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "The offer", body = WaitlistOffer),
        (status = 404, response = NotFound),
        PublicErrors, ServerErrors,
    )
)]
#[get("/waitlist/offers/{token}")]
pub async fn get_waitlist_offer(
    _caller: TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token, "waitlist offer")?;
    let mut conn = state.conn().await?;
    let view = accept::view(&mut conn, token).await?;
    Ok(private(shown(&mut conn, view).await?))
}

/// How to accept.
#[derive(Debug, Default, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"cascade": true}))]
pub struct AcceptOffer {
    /// Move the course's later sessions along to keep their interval windows (needed when
    /// the offer says `cascade_required`).
    #[serde(default)]
    #[garde(skip)]
    pub cascade: bool,
}

/// Accept a waitlist offer
///
/// Books the time (or moves the patient's session to it) through the same rules as the
/// front desk's booking; the first acceptance of a freed time wins, and the others answer 409
/// `offer-taken` with their entries still waiting. The answer carries the session and a new
/// manage link. The body may be omitted.
#[utoipa::path(
    tag = "waitlist",
    request_body(content = Option<AcceptOffer>),
    params(("token" = String, Path, description = "The token of the offer's link", pattern = r"^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "Booked", body = ManagedMove),
        (status = 404, response = NotFound),
        (status = 409, description = "`offer-taken` (someone else took it, or it was booked otherwise), `offer-expired` (past `expires_at`, or the entry ended)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`course-window-broken` (the move needs `cascade: true`), `course-not-plannable` (the cascade cannot place a later session), or a booking rule", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        BodyErrors, PublicErrors, ServerErrors,
    )
)]
#[post("/waitlist/offers/{token}/accept")]
pub async fn accept_waitlist_offer(
    TokenHolder(caller): TokenHolder,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let token = well_formed(&token, "waitlist offer")?.to_owned();
    let cascade = optional_json::<AcceptOffer>(&body)?.cascade;
    let now = state.now();
    let mut conn = state.conn().await?;
    let accepted = conn
        .transaction::<_, AppError, _>(async |conn| {
            accept::accept(conn, &caller, &token, cascade, now).await
        })
        .await?;
    let (view, manage_token) = match accepted {
        Accepted::Booked(view, manage_token) => (view, manage_token),
        Accepted::Gone => {
            return Err(AppError::Problem(
                ProblemType::OfferTaken,
                "the time was booked otherwise since the offer; the entry stays on the waitlist"
                    .into(),
            ));
        }
    };
    let managed = manage::managed(&mut conn, view.row, now).await?;
    Ok(private(ManagedMove {
        session: ManagedSession::from(managed),
        manage_url: crate::api::online::manage_url(&state, &manage_token),
    }))
}
