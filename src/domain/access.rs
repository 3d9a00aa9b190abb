//! Who may call the API: roles, and API keys (random, shown once, stored as a SHA-256 hash).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including keys and the audit trail.
    Admin,
    /// The front desk: patients, sessions, courses, inquiries; catalog read.
    Staff,
    /// One clinician: their own schedule, their own patients' sessions.
    Provider,
    /// An integrator's system: reads events, sessions, courses, patients' contact details, the
    /// catalog and availability; no clinical records, notes, inquiries or audit trail; no writes.
    Integration,
}

impl Role {
    /// The name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Staff => "staff",
            Self::Provider => "provider",
            Self::Integration => "integration",
        }
    }

    /// The role of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(Self::Admin),
            "staff" => Some(Self::Staff),
            "provider" => Some(Self::Provider),
            "integration" => Some(Self::Integration),
            _ => None,
        }
    }
}

/// Recognisable start of every key, so a leaked one is easy to spot and search for.
pub const KEY_PREFIX: &str = "prolo_";
/// Characters of a key kept in clear to tell keys apart in lists.
const SHOWN_PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

/// A freshly generated key: the secret (shown once) and what is stored of it.
pub struct NewKey {
    pub secret: String,
    pub prefix: String,
    pub hash: [u8; 32],
}

/// Generates a key of 32 random bytes (256 bits of entropy) from the operating system.
pub fn generate_key() -> Result<NewKey, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let secret = format!("{KEY_PREFIX}{}", hex(&bytes));
    Ok(NewKey {
        prefix: secret[..SHOWN_PREFIX_LEN].to_owned(),
        hash: hash_key(&secret),
        secret,
    })
}

/// A random token for a link (unsubscribe, manage): 64 hex characters from 32 random bytes,
/// with the SHA-256 that is stored instead of it.
pub fn generate_link_token() -> Result<(String, [u8; 32]), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let token = hex(&bytes);
    let hash = hash_key(&token);
    Ok((token, hash))
}

/// The stored form of a key.
pub fn hash_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The part of a key kept in clear.
pub fn shown_prefix(secret: &str) -> String {
    secret.chars().take(SHOWN_PREFIX_LEN).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_eq!(a.secret.len(), KEY_PREFIX.len() + 64);
        assert_eq!(a.hash, hash_key(&a.secret));
        assert_ne!(a.hash, b.hash);
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(a.prefix, shown_prefix(&a.secret));
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Admin, Role::Staff, Role::Provider] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
