//! Contact details as the clinic compares them.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

/// An email as stored and compared: in Unicode NFC (so a decomposed `é` is the same letter as a
/// composed one) with its domain case-folded (domains are case-insensitive). The local part
/// keeps its case; the duplicate rule compares it case-insensitively as well.
pub fn normalize_email(email: &str) -> String {
    let composed: String = email.nfc().collect();
    match composed.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => composed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_accents_and_domain_case_do_not_make_another_address() {
        let composed = "jos\u{e9}@Clinic.EXAMPLE";
        let decomposed = "jose\u{301}@clinic.example";
        assert_eq!(normalize_email(composed), normalize_email(decomposed));
        assert_eq!(normalize_email(decomposed), "jos\u{e9}@clinic.example");
        assert_eq!(
            normalize_email("A@\u{C9}COLE.example"),
            "A@\u{e9}cole.example"
        );
    }
}

/// How a patient prefers to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactMethod {
    Email,
    Phone,
    Sms,
}

impl ContactMethod {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Sms => "sms",
        }
    }

    /// The method of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "phone" => Some(Self::Phone),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}
