//! Optimistic concurrency: `ETag` from a row's version, `If-Match` on changes.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::app::caller::Expected;
use crate::error::AppError;

/// The `ETag` of a resource at `version`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A response with the resource's `ETag`.
pub fn with_etag(mut response: HttpResponseBuilder, version: i32) -> HttpResponseBuilder {
    response.insert_header((header::ETAG, etag(version)));
    response
}

/// `200 OK` with a JSON body and its `ETag`.
pub fn ok_tagged<T: serde::Serialize>(body: &T, version: i32) -> HttpResponse {
    with_etag(HttpResponse::Ok(), version).json(body)
}

/// The `If-Match` header, if sent.
#[derive(Debug)]
pub struct IfMatch(Option<Expected>);

impl IfMatch {
    /// For `PATCH`: the header is mandatory (428 without it).
    pub fn required(&self) -> Result<Expected, AppError> {
        self.0.ok_or(AppError::PreconditionRequired)
    }

    /// For state-changing `POST`s: checked when present.
    pub fn optional(&self) -> Expected {
        self.0.unwrap_or(Expected::Any)
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_if_match(req).map(IfMatch))
    }
}

/// [`parse_if_match`]'s grammar as a JSON Schema pattern: `*`, or entity tags separated by
/// commas and optional whitespace (RFC 9110 `entity-tag`; a comma may sit inside a tag).
pub const IF_MATCH_PATTERN: &str =
    r#"^(\*|(W/)?"[\x21\x23-\x7e]*"([ \t]*,[ \t]*(W/)?"[\x21\x23-\x7e]*")*)$"#;

/// Reads `If-Match`: absent, `*`, or a list of entity tags; anything else is a 400 naming it.
fn parse_if_match(req: &HttpRequest) -> Result<Option<Expected>, AppError> {
    let mut sent = req.headers().get_all(header::IF_MATCH).peekable();
    if sent.peek().is_none() {
        return Ok(None);
    }
    let malformed = || {
        AppError::field(
            "If-Match",
            "must be `*` or a comma-separated list of entity tags such as \"3\"",
        )
    };
    let values: Vec<&str> = sent
        .map(|value| value.to_str().map(|text| text.trim_matches(WHITESPACE)))
        .collect::<Result<_, _>>()
        .map_err(|_| malformed())?;
    if values == ["*"] {
        return Ok(Some(Expected::Any));
    }
    let mut tags = Vec::new();
    for value in values {
        tags.extend(entity_tags(value).ok_or_else(malformed)?);
    }
    // Weak tags never match under If-Match (RFC 9110 strong comparison).
    let version = tags.iter().find_map(|tag| {
        tag.strip_prefix('"')?
            .strip_suffix('"')?
            .parse::<i32>()
            .ok()
    });
    Ok(Some(version.map_or(Expected::Never, Expected::Version)))
}

/// Spaces and tabs around list elements (RFC 9110 `OWS`).
const WHITESPACE: [char; 2] = [' ', '\t'];

/// The entity tags of a comma-separated list (`"…"` or `W/"…"`, visible ASCII but `"` inside),
/// or `None` unless the whole text is such a list (see [`IF_MATCH_PATTERN`]).
fn entity_tags(list: &str) -> Option<Vec<&str>> {
    let mut tags = Vec::new();
    let mut rest = list;
    loop {
        let opaque = rest.strip_prefix("W/").unwrap_or(rest).strip_prefix('"')?;
        let close = opaque.find('"')?;
        if !opaque[..close]
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
        {
            return None;
        }
        let length = rest.len() - opaque.len() + close + 1;
        tags.push(&rest[..length]);
        rest = rest[length..].trim_start_matches(WHITESPACE);
        if rest.is_empty() {
            return Some(tags);
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(WHITESPACE);
    }
}

/// `201 Created` with `Location` and `ETag`.
pub fn created<T: serde::Serialize>(location: String, body: &T, version: i32) -> HttpResponse {
    let mut response = with_etag(HttpResponse::Created(), version);
    response.insert_header((header::LOCATION, location));
    response.json(body)
}

#[cfg(test)]
mod tests {
    use super::entity_tags;

    #[test]
    fn entity_tag_lists_split_between_tags_only() {
        assert_eq!(entity_tags(r#""3""#), Some(vec![r#""3""#]));
        assert_eq!(
            entity_tags("W/\"a,b\" ,\t\"\" , \"x\\\""),
            Some(vec![r#"W/"a,b""#, r#""""#, r#""x\""#])
        );
        for malformed in [
            "",
            "3",
            "\"3",
            "\"3\",",
            "\"3\" \"4\"",
            "w/\"3\"",
            "\"a b\"",
            "*, \"3\"",
        ] {
            assert_eq!(entity_tags(malformed), None, "{malformed:?}");
        }
    }
}
