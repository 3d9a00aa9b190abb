//! Who is calling: `Authorization: Bearer <key>` resolved to a [`Caller`] by the
//! [`authenticate`] middleware, then checked by the one parameter a handler states its rule
//! with: [`AdminKey`], [`StaffKey`], [`ClinicianKey`], [`ReaderKey`], [`EventReader`],
//! [`AnyKey`] or [`Public`]. The checks are synchronous so they
//! decide before any body is read; every refusal leaves one audit event.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use uuid::Uuid;

use crate::app::caller::Caller;
use crate::app::inquiries::intake::Sender;
use crate::db::standby::Freshness;
use crate::domain::access::{Role, hash_key};
use crate::error::AppError;
use crate::http::rate_limit::RateLimiter;
use crate::http::state::AppState;
use crate::models::api_keys;
use crate::models::audit_events::{self, NewAuditEvent};

/// The key id of the request's caller, kept in the request for the access log.
#[derive(Debug, Clone, Copy)]
pub struct CallerKeyId(pub Uuid);

/// What the middleware made of the `Authorization` header.
#[derive(Debug, Clone)]
enum Authentication {
    Valid(Caller),
    Invalid(&'static str),
    RateLimited(u64),
    Unavailable,
}

/// A refusal, for the middleware to write to the audit trail.
#[derive(Debug, Clone)]
struct Denial {
    caller: Option<Caller>,
    status: u16,
}

/// Resolves the caller's key before routing to a handler, and writes the audit event of a
/// refusal once the handler's extractors have decided.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut client = None;
    if let (Some(state), Some(value)) = (&state, req.headers().get(header::AUTHORIZATION)) {
        let outcome = resolve(state, value, request_id(req.request())).await;
        if let Authentication::Valid(Caller {
            key_id: Some(key_id),
            ..
        }) = &outcome
        {
            req.extensions_mut().insert(CallerKeyId(*key_id));
            client = Some(format!("key:{key_id}"));
        }
        req.extensions_mut().insert(outcome);
    }
    // Held until the answer is ready: a key's (or a client's) slow requests cannot pile up.
    let _slot = match &state {
        Some(state) => {
            let client = client.unwrap_or_else(|| format!("ip:{}", client_ip(req.request())));
            match state.in_flight.enter(&client) {
                Some(slot) => Some(slot),
                None => {
                    let response = AppError::RateLimited(1).error_response();
                    return Ok(req.into_response(response));
                }
            }
        }
        None => None,
    };
    let response = next.call(req).await?.map_into_boxed_body();
    let Some(state) = state else {
        return Ok(response);
    };
    let denial = response
        .request()
        .extensions()
        .get::<Denial>()
        .cloned()
        .or_else(|| concealed(&response));
    let recorded = match denial {
        // Without a valid key: counted per client and minute, written once the minute is over.
        Some(Denial { caller: None, .. }) => {
            state
                .refusals
                .count(&client_ip(response.request()), state.now());
            Ok(())
        }
        Some(denial) => append(&state, denial_event(response.request(), &denial)).await,
        None => Ok(()),
    };
    if state.refusals.has_finished(state.now()) {
        super::refusals::flush(&state.refusals, &state.pool, state.now(), false).await;
    }
    match recorded {
        Ok(()) => Ok(response),
        // No refusal goes unrecorded: without the trail, answer 503.
        Err(error) => {
            let (request, _) = response.into_parts();
            Ok(ServiceResponse::new(request, error.error_response()))
        }
    }
}

/// A record a caller may not see was asked for: answered 404 as if it did not exist, and
/// recorded as a denied attempt.
fn concealed(response: &ServiceResponse<BoxBody>) -> Option<Denial> {
    let error = response.response().error()?.as_error::<AppError>()?;
    let AppError::Concealed(_) = error else {
        return None;
    };
    let caller = match response.request().extensions().get::<Authentication>() {
        Some(Authentication::Valid(caller)) => caller.clone(),
        _ => return None,
    };
    Some(Denial {
        caller: Some(caller),
        status: 404,
    })
}

async fn resolve(
    state: &AppState,
    value: &header::HeaderValue,
    request_id: Option<String>,
) -> Authentication {
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are `Bearer`.
    let secret = value
        .to_str()
        .ok()
        .and_then(|value| value.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .filter(|secret| !secret.is_empty());
    let Some(secret) = secret else {
        return Authentication::Invalid("the Authorization header must be `Bearer <key>`");
    };
    let hash = hash_key(secret);
    let now = state.now();
    let (found, conn) = match state.keys.get(&hash) {
        Some(cached) => (Some(cached), None),
        None => {
            let generation = state.keys.generation();
            let Ok(mut conn) = state.conn().await else {
                return Authentication::Unavailable;
            };
            let found = match api_keys::find_by_hash(&mut conn, &hash).await {
                Ok(found) => found,
                Err(_) => return Authentication::Unavailable,
            };
            if let Some(found) = found.as_ref().filter(|found| usable(found, now)) {
                state.keys.put(generation, hash, found.clone());
            }
            (found, Some(conn))
        }
    };
    let Some(api_keys::KeyWithProvider { key, .. }) = found.filter(|found| usable(found, now))
    else {
        return Authentication::Invalid(
            "the API key is unknown, revoked or expired, or its provider is archived",
        );
    };
    let role = key.role;
    if let Err(retry_after) = state.key_limiter.check(&key.id.to_string()) {
        return Authentication::RateLimited(retry_after);
    }
    // The row says whether a touch is due: a key in steady use skips the round trip.
    let touched_lately = key
        .last_used_at
        .is_some_and(|at| at > now - chrono::Duration::minutes(1));
    if !touched_lately {
        let mut conn = match conn {
            Some(conn) => conn,
            None => match state.conn().await {
                Ok(conn) => conn,
                Err(_) => return Authentication::Unavailable,
            },
        };
        if api_keys::touch(&mut conn, key.id).await.is_err() {
            return Authentication::Unavailable;
        }
        state.keys.touched(&hash, now);
    }
    Authentication::Valid(Caller {
        key_id: Some(key.id),
        role: Some(role),
        provider_id: key.provider_id,
        request_id,
    })
}

/// Whether a key found may be used at `now`. A provider's keys end with the provider: an
/// archived provider's key is as good as revoked.
fn usable(found: &api_keys::KeyWithProvider, now: chrono::DateTime<chrono::Utc>) -> bool {
    found.key.revoked_at.is_none()
        && found.key.expires_at.is_none_or(|at| at > now)
        && found.provider_archived_at.is_none()
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $($role:ident),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = AppError;
            type Future = std::future::Ready<Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                std::future::ready(authorize(req, &[$(Role::$role),+]).map($name))
            }
        }
    };
}

role_extractor!(
    /// An `admin` key.
    AdminKey, Admin
);
role_extractor!(
    /// An `admin` or `staff` key.
    StaffKey, Admin, Staff
);
role_extractor!(
    /// Any valid key; provider and integration keys are scoped by the use case.
    AnyKey, Admin, Staff, Provider, Integration
);
role_extractor!(
    /// A key of someone who treats patients or runs the front desk: `admin`, `staff`, `provider`.
    ClinicianKey, Admin, Staff, Provider
);
role_extractor!(
    /// A key that reads the clinic's records in bulk: `admin`, `staff`, `integration`.
    ReaderKey, Admin, Staff, Integration
);
role_extractor!(
    /// A key that reads the event log: `admin`, `integration`.
    EventReader, Admin, Integration
);

/// No key needed; a key that is sent must still be valid. Limited per client IP.
#[derive(Debug, Clone)]
pub struct Public(pub Option<Caller>);

impl Public {
    /// How fresh the caller's reads must be: a key sees its own writes; the public pages may
    /// lag a moment behind.
    pub fn freshness(&self) -> Freshness {
        match self.0 {
            Some(_) => Freshness::Current,
            None => Freshness::Bounded,
        }
    }
}

impl FromRequest for Public {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authentication = req.extensions().get::<Authentication>().cloned();
        let result = match authentication {
            None => limit_by_ip(req).map(|()| Public(None)),
            Some(Authentication::Valid(caller)) => Ok(Public(Some(caller))),
            Some(other) => Err(refuse(req, other, None)),
        };
        std::future::ready(result)
    }
}

/// The public inquiry intake: as [`Public`], and a caller without a key also spends its IP's
/// hourly inquiry allowance, before the body is read.
#[derive(Debug, Clone)]
pub struct Intake(pub Option<Caller>);

impl FromRequest for Intake {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let result = Public::from_request(req, payload)
            .into_inner()
            .and_then(
                |Public(caller)| match (&caller, req.app_data::<web::Data<AppState>>()) {
                    (None, Some(state)) => state
                        .inquiry_limiter
                        .check(&client_ip(req))
                        .map(|()| Intake(None))
                        .map_err(AppError::RateLimited),
                    _ => Ok(Intake(caller)),
                },
            );
        std::future::ready(result)
    }
}

/// A public request that also spends one of the client IP's allowances of `limiter`, before
/// the body is read: the online booking's requests and its secret-bearing links.
fn limited_public(
    req: &HttpRequest,
    payload: &mut Payload,
    limiter: impl Fn(&AppState) -> &RateLimiter,
) -> Result<Caller, AppError> {
    let Public(_) = Public::from_request(req, payload).into_inner()?;
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        limiter(state)
            .check(&client_ip(req))
            .map_err(AppError::RateLimited)?;
    }
    Ok(Caller::visitor(request_id(req)))
}

/// A visitor booking online (`POST /v1/bookings`): as [`Public`], and each request spends the
/// client IP's hourly booking allowance (a request mails a code). The caller acts as a visitor
/// even when it sends a key.
#[derive(Debug, Clone)]
pub struct Booker(pub Caller, pub String);

impl FromRequest for Booker {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let result = limited_public(req, payload, |state| &state.booking_limiter)
            .map(|caller| Booker(caller, client_ip(req)));
        std::future::ready(result)
    }
}

/// A visitor holding a slot (`POST /v1/holds`): as [`Public`]; the client's address counts its
/// live holds.
#[derive(Debug, Clone)]
pub struct Holder(pub Caller, pub String);

impl FromRequest for Holder {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let result = Public::from_request(req, payload)
            .into_inner()
            .map(|_| Holder(Caller::visitor(request_id(req)), client_ip(req)));
        std::future::ready(result)
    }
}

/// A visitor with a secret (a code, a manage link): as [`Public`], and limited per client IP
/// each minute, so secrets cannot be guessed at speed.
#[derive(Debug, Clone)]
pub struct TokenHolder(pub Caller);

impl FromRequest for TokenHolder {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        std::future::ready(
            limited_public(req, payload, |state| &state.token_limiter).map(TokenHolder),
        )
    }
}

impl Intake {
    /// Who sends the form, for the intake's audit event.
    pub fn sender(&self, req: &HttpRequest) -> Sender {
        match &self.0 {
            Some(caller) => Sender::Key(caller.clone()),
            None => Sender::Visitor {
                request_id: request_id(req),
            },
        }
    }
}

fn authorize(req: &HttpRequest, allowed: &[Role]) -> Result<Caller, AppError> {
    let authentication = req.extensions().get::<Authentication>().cloned();
    match authentication {
        Some(Authentication::Valid(caller))
            if caller.role.is_some_and(|role| allowed.contains(&role)) =>
        {
            Ok(caller)
        }
        Some(Authentication::Valid(caller)) => {
            let error = AppError::Forbidden(caller.role.map_or("public", Role::as_str));
            deny(req, Some(caller), &error);
            Err(error)
        }
        None => {
            limit_by_ip(req)?;
            let error = AppError::Unauthorized(
                "this operation needs an API key: send Authorization: Bearer <key>",
            );
            deny(req, None, &error);
            Err(error)
        }
        Some(other) => Err(refuse(req, other, None)),
    }
}

/// The error for a header that did not yield a caller.
fn refuse(req: &HttpRequest, authentication: Authentication, caller: Option<Caller>) -> AppError {
    match authentication {
        Authentication::Invalid(reason) => {
            if let Err(limited) = limit_by_ip(req) {
                return limited;
            }
            let error = AppError::Unauthorized(reason);
            deny(req, caller, &error);
            error
        }
        Authentication::RateLimited(seconds) => AppError::RateLimited(seconds),
        Authentication::Unavailable | Authentication::Valid(_) => {
            AppError::Unavailable("the API key could not be checked".into())
        }
    }
}

fn deny(req: &HttpRequest, caller: Option<Caller>, error: &AppError) {
    let status = error.problem_type().status();
    req.extensions_mut().insert(Denial { caller, status });
}

fn limit_by_ip(req: &HttpRequest) -> Result<(), AppError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Ok(());
    };
    state
        .public_limiter
        .check(&client_ip(req))
        .map_err(AppError::RateLimited)
}

/// The client a per-IP limit counts: the socket's peer, or behind a trusted proxy the client
/// it forwards for (see [`super::client`]); an IPv6 client by its /64.
fn client_ip(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.trusted_proxies.clone())
        .unwrap_or_default();
    super::client::of_request(req, &trusted)
}

/// The id tracing gave the request, for audit events.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string())
}

fn denial_event(req: &HttpRequest, denial: &Denial) -> NewAuditEvent {
    let route = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let resource_type = route
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    NewAuditEvent {
        id: Uuid::now_v7(),
        key_id: denial.caller.as_ref().and_then(|c| c.key_id),
        role: denial
            .caller
            .as_ref()
            .and_then(|c| c.role)
            .map(|role| role.as_str().to_owned()),
        action: format!("{} {route}", req.method()),
        resource_type,
        resource_id: req
            .match_info()
            .get("id")
            .and_then(|id| Uuid::try_parse(id).ok()),
        patient_id: None,
        request_id: request_id(req),
        outcome: "denied".to_owned(),
        status: denial.status as i16,
    }
}

async fn append(state: &AppState, event: NewAuditEvent) -> Result<(), AppError> {
    let conn = state.conn().await?;
    audit_events::append(&conn, event).await?;
    Ok(())
}
