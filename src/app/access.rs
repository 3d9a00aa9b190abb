//! API keys: issue, list, revoke, and who is calling. Every issue and revocation is audited.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::caller::Caller;
use crate::domain::access::Role;
use crate::error::AppError;
use crate::models::api_keys::{self as model, ApiKey, NewApiKey};
use crate::models::{PageRequest, audit_events};

/// A key to issue.
#[derive(Debug, Clone)]
pub struct IssueKey {
    pub role: Role,
    pub label: String,
    /// The provider a `provider` key is bound to.
    pub provider_id: Option<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Issues a key: its secret (shown once, stored only as a hash) and the stored row.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    command: IssueKey,
    now: DateTime<Utc>,
) -> Result<(String, ApiKey), AppError> {
    if command.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::rule("expires_at", "must be in the future"));
    }
    // The database holds the same rule (`api_keys_provider_role`); named here for the field.
    match (command.role, command.provider_id) {
        (Role::Provider, None) => {
            return Err(AppError::rule(
                "provider_id",
                "is required for a provider key",
            ));
        }
        (role, Some(_)) if role != Role::Provider => {
            return Err(AppError::rule(
                "provider_id",
                "is only for provider keys: other roles are not bound to a provider",
            ));
        }
        _ => {}
    }
    if let Some(provider_id) = command.provider_id {
        match model::provider_is_active(conn, provider_id).await? {
            Some(true) => {}
            Some(false) => return Err(AppError::rule("provider_id", "names an archived provider")),
            None => return Err(AppError::rule("provider_id", "names no provider")),
        }
    }
    let (secret, new) = NewApiKey::generate(
        command.role,
        &command.label,
        command.provider_id,
        command.expires_at,
    )
    .map_err(|e| AppError::Internal(Box::new(e)))?;
    let row = model::insert(conn, new).await?;
    let audit = caller.audit("api_key.create", "api-keys", Some(row.id), 201);
    audit_events::append(conn, audit).await?;
    Ok((secret, row))
}

/// A page of keys, oldest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    page: PageRequest,
) -> Result<Vec<ApiKey>, AppError> {
    Ok(model::list(conn, page).await?)
}

/// Revokes a key (again is harmless); it stops working on the next request, on every replica.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(), AppError> {
    // An admin revoking the key it calls with would lock itself out mid-session.
    if caller.key_id == Some(id) {
        return Err(AppError::rule(
            "id",
            "is the key this request is made with: revoke it with another admin key, or with \
             `prolo-scheduler api-keys revoke`",
        ));
    }
    model::revoke(conn, id)
        .await?
        .ok_or(AppError::NotFound("API key"))?;
    audit_events::append(
        conn,
        caller.audit("api_key.revoke", "api-keys", Some(id), 204),
    )
    .await?;
    Ok(())
}

/// The caller's own key.
pub async fn me(conn: &mut AsyncPgConnection, caller: &Caller) -> Result<ApiKey, AppError> {
    let Some(key_id) = caller.key_id else {
        return Err(AppError::NotFound("API key"));
    };
    model::find(conn, key_id)
        .await?
        .ok_or(AppError::NotFound("API key"))
}
