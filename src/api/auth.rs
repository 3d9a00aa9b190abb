//! Who is calling: `Authorization: Bearer <key>` resolved to a [`Caller`], checked against the
//! role an operation needs. A handler states its rule with one parameter: [`AdminKey`],
//! [`StaffKey`], [`AnyKey`] or [`Public`]. Every refusal writes one audit event.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use uuid::Uuid;

use crate::domain::access::{Role, hash_key};
use crate::error::AppError;
use crate::models::api_keys;
use crate::models::audit_events::{self, NewAuditEvent};
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: Uuid,
    pub role: Role,
    /// The provider a `provider` key is bound to.
    pub provider_id: Option<Uuid>,
    /// The request's id, for audit events.
    pub request_id: Option<String>,
}

impl Caller {
    /// Whether this caller may see what belongs to `provider_id` (a provider key sees only its own).
    pub fn sees_provider(&self, provider_id: Uuid) -> bool {
        self.role != Role::Provider || self.provider_id == Some(provider_id)
    }

    /// A successful audit event by this caller.
    pub fn audit(
        &self,
        action: &str,
        resource_type: &str,
        resource_id: Option<Uuid>,
        status: u16,
    ) -> NewAuditEvent {
        NewAuditEvent {
            id: Uuid::now_v7(),
            key_id: Some(self.key_id),
            role: Some(self.role.as_str().to_owned()),
            action: action.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id,
            patient_id: None,
            request_id: self.request_id.clone(),
            outcome: "success".to_owned(),
            status: status as i16,
        }
    }
}

/// The key id of the request's caller, kept in the request for the access log.
#[derive(Debug, Clone, Copy)]
pub struct CallerKeyId(pub Uuid);

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $($role:ident),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { authorize(&req, &[$(Role::$role),+]).await.map($name) })
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
    /// Any valid key; provider keys are scoped by the handler.
    AnyKey, Admin, Staff, Provider
);

/// No key needed; a key that is sent must still be valid. Limited per client IP.
#[derive(Debug, Clone)]
pub struct Public(pub Option<Caller>);

impl FromRequest for Public {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match authenticate(&req).await {
                Ok(caller) => Ok(Public(caller)),
                Err(error @ AppError::Unauthorized(_)) => {
                    record_denial(&req, None, &error).await?;
                    Err(error)
                }
                Err(error) => Err(error),
            }
        })
    }
}

async fn authorize(req: &HttpRequest, allowed: &[Role]) -> Result<Caller, AppError> {
    let (caller, error) = match authenticate(req).await {
        Ok(Some(caller)) if allowed.contains(&caller.role) => return Ok(caller),
        Ok(Some(caller)) => {
            let error = AppError::Forbidden(caller.role.as_str());
            (Some(caller), error)
        }
        Ok(None) => (
            None,
            AppError::Unauthorized(
                "this operation needs an API key: send Authorization: Bearer <key>",
            ),
        ),
        Err(error @ AppError::Unauthorized(_)) => (None, error),
        Err(error) => return Err(error),
    };
    record_denial(req, caller.as_ref(), &error).await?;
    Err(error)
}

/// The caller named by the `Authorization` header: `None` without one, 401 for a bad one.
async fn authenticate(req: &HttpRequest) -> Result<Option<Caller>, AppError> {
    let state = state(req)?;
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        limit_by_ip(req, &state)?;
        return Ok(None);
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty());
    let Some(secret) = secret else {
        limit_by_ip(req, &state)?;
        return Err(AppError::Unauthorized(
            "the Authorization header must be `Bearer <key>`",
        ));
    };
    let mut conn = state.conn().await?;
    let key = api_keys::find_by_hash(&mut conn, &hash_key(secret)).await?;
    let usable = key.filter(|key| {
        key.revoked_at.is_none() && key.expires_at.is_none_or(|expires| expires > Utc::now())
    });
    let Some(key) = usable else {
        limit_by_ip(req, &state)?;
        return Err(AppError::Unauthorized(
            "the API key is unknown, revoked or expired",
        ));
    };
    state
        .key_limiter
        .check(&key.id.to_string())
        .map_err(AppError::RateLimited)?;
    api_keys::touch(&mut conn, key.id).await?;
    let role =
        Role::parse(&key.role).ok_or(AppError::Unauthorized("the API key has an unknown role"))?;
    req.extensions_mut().insert(CallerKeyId(key.id));
    Ok(Some(Caller {
        key_id: key.id,
        role,
        provider_id: key.provider_id,
        request_id: request_id(req),
    }))
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("application state is missing".into()))
}

fn limit_by_ip(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    // The socket's peer, not X-Forwarded-For, which any client can forge.
    let client = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string());
    state
        .public_limiter
        .check(&client)
        .map_err(AppError::RateLimited)
}

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string())
}

/// Writes the one audit event of a refused request.
async fn record_denial(
    req: &HttpRequest,
    caller: Option<&Caller>,
    error: &AppError,
) -> Result<(), AppError> {
    let state = state(req)?;
    let route = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let resource_type = route
        .trim_start_matches("/v1/")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let resource_id = req
        .match_info()
        .get("id")
        .and_then(|id| Uuid::try_parse(id).ok());
    let event = NewAuditEvent {
        id: Uuid::now_v7(),
        key_id: caller.map(|c| c.key_id),
        role: caller.map(|c| c.role.as_str().to_owned()),
        action: format!("{} {route}", req.method()),
        resource_type,
        resource_id,
        patient_id: None,
        request_id: request_id(req),
        outcome: "denied".to_owned(),
        status: error.problem_type().status().as_u16() as i16,
    };
    let mut conn = state.conn().await?;
    audit_events::append(&mut conn, event).await?;
    Ok(())
}
