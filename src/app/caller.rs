//! Who asks for a use case, and what version of a record they expect to change.

use uuid::Uuid;

use crate::domain::access::Role;
use crate::error::AppError;
use crate::models::audit_events::NewAuditEvent;

/// Who asks: the holder of an API key, or a visitor acting through a public form or a link
/// (a hold's token, a manage link), who has neither key nor role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: Option<Uuid>,
    pub role: Option<Role>,
    /// The provider a `provider` key is bound to.
    pub provider_id: Option<Uuid>,
    /// The request's id, for audit events.
    pub request_id: Option<String>,
}

impl Caller {
    /// A visitor without a key: a patient booking online or managing their session.
    pub fn visitor(request_id: Option<String>) -> Self {
        Self {
            key_id: None,
            role: None,
            provider_id: None,
            request_id,
        }
    }

    /// Whether this caller may see what belongs to `provider_id` (a provider key sees only its own).
    pub fn sees_provider(&self, provider_id: Uuid) -> bool {
        self.role != Some(Role::Provider) || self.provider_id == Some(provider_id)
    }

    /// Whether this caller may read clinical records and free-text notes (an integration
    /// reads schedules, not health information).
    pub fn sees_clinical(&self) -> bool {
        self.role.is_some_and(|role| role != Role::Integration)
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
            key_id: self.key_id,
            role: Some(self.role.map_or("public", Role::as_str).to_owned()),
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

/// What a change expects the record's version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `If-Match: *` or no header where one is optional.
    Any,
    /// `If-Match` named this version.
    Version(i32),
    /// `If-Match` named no version this server ever issued: always stale.
    Never,
}

impl Expected {
    /// Whether a record at `version` satisfies the expectation.
    pub fn matches(self, version: i32) -> bool {
        match self {
            Self::Any => true,
            Self::Version(expected) => expected == version,
            Self::Never => false,
        }
    }

    /// 412 unless a record at `version` satisfies the expectation.
    pub fn check(self, version: i32) -> Result<(), AppError> {
        if self.matches(version) {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed)
        }
    }
}
