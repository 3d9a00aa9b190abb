//! Field rules shared by request types, for garde's `custom(...)`, and the `null`-aware
//! deserializer of `PATCH` fields.

use serde::{Deserialize, Deserializer};

/// An IANA time-zone name.
pub fn iana_time_zone(value: &str, _: &()) -> garde::Result {
    crate::domain::time::parse_time_zone(value)
        .map(|_| ())
        .map_err(beyond_schema)
}

/// Marks a garde message as a rule the schema cannot state.
const BEYOND_SCHEMA: char = '\u{1}';

/// A garde error for a rule the OpenAPI schema cannot state (an order between two fields, a
/// calendar bound, a list the schema does not hold): [`crate::http::extract::validate`] reports
/// it as 422 `unprocessable-values`, not as 400, since the request fits the schema.
pub fn beyond_schema(message: &'static str) -> garde::Error {
    garde::Error::new(format!("{BEYOND_SCHEMA}{message}"))
}

/// The message of a garde error, and whether it is one of [`beyond_schema`].
pub fn classify(message: &str) -> (&str, bool) {
    match message.strip_prefix(BEYOND_SCHEMA) {
        Some(rule) => (rule, true),
        None => (message, false),
    }
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

const INSTANT_EXPECTED: &str =
    "expected an RFC 3339 date-time with an offset, e.g. 2026-12-03T09:00:00-07:00";

/// The years every instant and date of the API lies in: what RFC 3339 can write with four
/// digits, and well inside what PostgreSQL can store.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Whether `instant` lies in [`YEARS`], in UTC.
pub fn representable(instant: chrono::DateTime<chrono::Utc>) -> bool {
    YEARS.contains(&chrono::Datelike::year(&instant))
}

/// Parses an RFC 3339 instant; a time without an offset, or outside [`YEARS`], is rejected.
pub fn parse_instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, &'static str> {
    // A `+` left unencoded in a query string arrives as a space.
    let text = text.trim().replace(' ', "+");
    let instant = chrono::DateTime::parse_from_rfc3339(&text)
        .map(|instant| instant.to_utc())
        .map_err(|_| INSTANT_EXPECTED)?;
    match representable(instant) {
        true => Ok(instant),
        false => Err("must lie between the years 0001 and 9999"),
    }
}

/// Reads an instant field (see [`parse_instant`]).
pub fn instant<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<chrono::DateTime<chrono::Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_instant(&text).map_err(serde::de::Error::custom)
}

/// Reads an optional instant field (see [`parse_instant`]).
pub fn optional_instant<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => parse_instant(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// A slug: lower-case letters and digits in words joined by single hyphens, at most 64 bytes.
pub fn slug(value: &str, _: &()) -> garde::Result {
    let well_formed = !value.is_empty()
        && value.len() <= 64
        && value.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if well_formed {
        Ok(())
    } else {
        Err(garde::Error::new(
            "must be lower-case words of a-z and 0-9 joined by single hyphens, at most 64 characters",
        ))
    }
}

/// [`email`] as a JSON Schema pattern (the OpenAPI document carries it on every `email`).
pub const EMAIL_PATTERN: &str = concat!(
    r"^[^@\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]+",
    r"@[^@.\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]",
    r"[^@\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]*\.",
    r"[^@\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]*",
    r"[^@.\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]$"
);

/// A plausible email address: one `@`, something before it, a dotted domain that neither
/// starts nor ends with a dot, no spaces or hidden characters, at most 254 characters.
/// Exactly [`EMAIL_PATTERN`] with `maxLength` 254.
pub fn email(value: &str, _: &()) -> garde::Result {
    let plausible = value.chars().count() <= 254
        && !value.contains(|c: char| c.is_whitespace() || hidden(c))
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if plausible {
        Ok(())
    } else {
        Err(garde::Error::new("is not an email address"))
    }
}

/// [`phone`] as a JSON Schema pattern.
pub const PHONE_PATTERN: &str = r"^([ +\-.()]*[0-9]){7,15}[ +\-.()]*$";

/// A phone number: 7 to 15 digits, optionally with `+`, spaces, dots, dashes and parentheses,
/// at most 32 characters. Exactly [`PHONE_PATTERN`] with `maxLength` 32.
pub fn phone(value: &str, _: &()) -> garde::Result {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if allowed && (7..=15).contains(&digits) && value.len() <= 32 {
        Ok(())
    } else {
        Err(garde::Error::new("is not a phone number (7 to 15 digits)"))
    }
}

/// A date of birth: from 1900 on, and not after today by the calendar (checked again against
/// the clock where it matters).
pub fn date_of_birth(value: &chrono::NaiveDate, _: &()) -> garde::Result {
    let earliest = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    if *value < earliest {
        return Err(beyond_schema("must be 1900-01-01 or later"));
    }
    Ok(())
}

/// Reads a calendar date written exactly `YYYY-MM-DD`, in [`YEARS`].
pub fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<chrono::NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    let parsed = (text.len() == 10)
        .then(|| chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok())
        .flatten()
        .filter(|date| YEARS.contains(&chrono::Datelike::year(date)));
    parsed.ok_or_else(|| serde::de::Error::custom("expected a date YYYY-MM-DD (years 0001-9999)"))
}

/// A character that changes how text around it looks without showing itself: control
/// characters, and the bidirectional embeddings, overrides and isolates that can make a name or
/// an address read differently from what is stored.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The forms free text takes. Each is a garde rule (the functions below) and, for the
/// document, a JSON Schema pattern built from the same character tests, so the two cannot
/// drift apart. A field names its form with `#[schema(format = "…")]` (its [`Self::marker`]);
/// `openapi::complete` puts the pattern in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// One line: no control characters (line breaks, NUL, escapes) or bidi overrides.
    SingleLine,
    /// Several lines: line breaks and tabs, but no other control characters or bidi overrides.
    MultiLine,
    /// A name or a label: one line that is not only whitespace.
    Name,
    /// A message: several lines that are not only whitespace.
    Message,
}

impl TextForm {
    pub const ALL: [Self; 4] = [Self::SingleLine, Self::MultiLine, Self::Name, Self::Message];

    /// The `format` a field carries in its `#[schema]` to name this form.
    pub fn marker(self) -> &'static str {
        match self {
            Self::SingleLine => "single-line",
            Self::MultiLine => "multi-line",
            Self::Name => "name",
            Self::Message => "message",
        }
    }

    /// A character this form refuses anywhere.
    fn refuses(self, c: char) -> bool {
        match self {
            Self::SingleLine | Self::Name => hidden(c),
            Self::MultiLine | Self::Message => hidden(c) && !matches!(c, '\n' | '\r' | '\t'),
        }
    }

    fn needs_visible(self) -> bool {
        matches!(self, Self::Name | Self::Message)
    }

    pub fn check(self, value: &str) -> garde::Result {
        if self.needs_visible() && value.trim().is_empty() {
            return Err(garde::Error::new("must not be blank"));
        }
        if value.chars().any(|c| self.refuses(c)) {
            return Err(garde::Error::new(match self {
                Self::SingleLine | Self::Name => {
                    "must not contain control characters or bidirectional overrides"
                }
                Self::MultiLine | Self::Message => {
                    "must not contain control characters (but line breaks and tabs) or bidirectional overrides"
                }
            }));
        }
        Ok(())
    }

    /// [`Self::check`] as a JSON Schema pattern: no refused character, and where the form
    /// needs one, a character that is neither refused nor whitespace (`str::trim`'s).
    pub fn pattern(self) -> String {
        let allowed = negated_class(|c| self.refuses(c));
        if self.needs_visible() {
            let visible = negated_class(|c| self.refuses(c) || c.is_whitespace());
            format!("^{allowed}*{visible}{allowed}*$")
        } else {
            format!("^{allowed}*$")
        }
    }
}

/// `[^…]` of every character `excluded` holds, as `\uXXXX` ranges. Only the Basic
/// Multilingual Plane is scanned: nothing outside it is hidden or whitespace (a unit test says so).
fn negated_class(excluded: impl Fn(char) -> bool) -> String {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for code in 0..=0xFFFF_u32 {
        if !char::from_u32(code).is_some_and(&excluded) {
            continue;
        }
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == code => *last = code,
            _ => ranges.push((code, code)),
        }
    }
    let body: String = ranges
        .iter()
        .map(|&(first, last)| match last > first {
            true => format!("\\u{first:04x}-\\u{last:04x}"),
            false => format!("\\u{first:04x}"),
        })
        .collect();
    format!("[^{body}]")
}

/// One line of text (see [`TextForm::SingleLine`]).
pub fn single_line(value: &str, _: &()) -> garde::Result {
    TextForm::SingleLine.check(value)
}

/// Text of several lines (see [`TextForm::MultiLine`]).
pub fn multi_line(value: &str, _: &()) -> garde::Result {
    TextForm::MultiLine.check(value)
}

/// A name or a label (see [`TextForm::Name`]).
pub fn name(value: &str, _: &()) -> garde::Result {
    TextForm::Name.check(value)
}

/// A message (see [`TextForm::Message`]).
pub fn message(value: &str, _: &()) -> garde::Result {
    TextForm::Message.check(value)
}

/// An end of a span: later than its `starts_at` (422 otherwise: the schema cannot say so).
pub fn ends_after(
    starts_at: &chrono::DateTime<chrono::Utc>,
) -> impl FnOnce(&chrono::DateTime<chrono::Utc>, &()) -> garde::Result + '_ {
    move |ends_at, _| {
        if ends_at <= starts_at {
            return Err(beyond_schema("must be later than starts_at"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_patterns_list_the_characters_their_rules_refuse() {
        let hidden = r"\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff";
        assert_eq!(TextForm::SingleLine.pattern(), format!("^[^{hidden}]*$"));
        let visible = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028-\u202f\u205f\u2066-\u2069\u3000\ufeff";
        assert_eq!(
            TextForm::Name.pattern(),
            format!("^[^{hidden}]*[^{visible}][^{hidden}]*$")
        );
        assert!(
            TextForm::MultiLine
                .pattern()
                .starts_with(r"^[^\u0000-\u0008\u000b-\u000c")
        );
    }

    #[test]
    fn nothing_beyond_the_basic_multilingual_plane_is_hidden_or_whitespace() {
        let beyond = (0x1_0000..=0x10_FFFF_u32).filter_map(char::from_u32);
        assert!(beyond.clone().all(|c| !hidden(c) && !c.is_whitespace()));
    }

    #[test]
    fn text_forms_refuse_what_they_say() {
        for (form, accepted, refused) in [
            (
                TextForm::SingleLine,
                vec!["", "  ", "Anna O'Neil"],
                vec!["a\nb", "a\u{202e}b", "\u{feff}"],
            ),
            (
                TextForm::MultiLine,
                vec!["", "a\r\n\tb"],
                vec!["a\u{7}b", "a\u{2066}b", "a\u{85}"],
            ),
            (
                TextForm::Name,
                vec!["Dr. Ng", " a "],
                vec!["", " \u{3000}", "a\nb", "a\u{202a}"],
            ),
            (
                TextForm::Message,
                vec!["a\nb", "\n x"],
                vec!["\n\t ", "a\u{0}b"],
            ),
        ] {
            for text in accepted {
                assert!(form.check(text).is_ok(), "{form:?} refused {text:?}");
            }
            for text in refused {
                assert!(form.check(text).is_err(), "{form:?} accepted {text:?}");
            }
        }
    }
}
