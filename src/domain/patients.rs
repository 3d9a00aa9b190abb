//! Where a patient's record came from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who registered a patient: the front desk, an inquiry converted by staff, or the patient on
/// the booking page (the front desk may want to check such a record at the first visit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PatientSource {
    Staff,
    Inquiry,
    Online,
}

impl PatientSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Inquiry => "inquiry",
            Self::Online => "online",
        }
    }

    /// The source of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "staff" => Some(Self::Staff),
            "inquiry" => Some(Self::Inquiry),
            "online" => Some(Self::Online),
            _ => None,
        }
    }
}
