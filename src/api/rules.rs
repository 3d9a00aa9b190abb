//! Field rules shared by request types, for garde's `custom(...)`, and the `null`-aware
//! deserializer of `PATCH` fields.

use serde::{Deserialize, Deserializer};

/// Text that is not only whitespace.
pub fn not_blank(value: &str, _: &()) -> garde::Result {
    if value.trim().is_empty() {
        return Err(garde::Error::new("must not be blank"));
    }
    Ok(())
}

/// Optional text that, when present, is not blank.
pub fn optional_not_blank(value: &Option<String>, ctx: &()) -> garde::Result {
    value.as_deref().map_or(Ok(()), |text| not_blank(text, ctx))
}

/// An IANA time-zone name.
pub fn iana_time_zone(value: &str, _: &()) -> garde::Result {
    crate::domain::time::parse_time_zone(value)
        .map(|_| ())
        .map_err(garde::Error::new)
}

/// A `PATCH` field that may be set to `null`: at most `MAX` characters when it is text.
pub fn nullable_text<const MAX: usize>(value: &Option<Option<String>>, _: &()) -> garde::Result {
    match value {
        Some(Some(text)) if text.chars().count() > MAX => Err(garde::Error::new(format!(
            "must be at most {MAX} characters"
        ))),
        _ => Ok(()),
    }
}

/// Reads a `PATCH` field: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
