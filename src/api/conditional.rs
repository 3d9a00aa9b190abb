//! Optimistic concurrency: `ETag` from a row's version, `If-Match` on changes.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};

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

/// What a change expects the resource's version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `If-Match: *` or no header where one is optional.
    Any,
    /// `If-Match` named this version.
    Version(i32),
    /// `If-Match` named no version this server ever issued: always stale.
    Never,
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
    let mut tags = Vec::new();
    for value in sent {
        let value = value.to_str().map_err(|_| malformed())?;
        tags.extend(value.split(',').map(str::trim));
    }
    if tags == ["*"] {
        return Ok(Some(Expected::Any));
    }
    if !tags.iter().all(|tag| is_entity_tag(tag)) {
        return Err(malformed());
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

/// `"…"` or `W/"…"` with visible ASCII but `"` inside (RFC 9110 `entity-tag`).
fn is_entity_tag(tag: &str) -> bool {
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && opaque[1..opaque.len() - 1]
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
}

impl Expected {
    /// Whether a resource at `version` satisfies the expectation.
    pub fn matches(self, version: i32) -> bool {
        match self {
            Self::Any => true,
            Self::Version(expected) => expected == version,
            Self::Never => false,
        }
    }
}

impl Expected {
    /// 412 unless a resource at `version` satisfies the expectation.
    pub fn check(self, version: i32) -> Result<(), AppError> {
        if self.matches(version) {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed)
        }
    }
}

/// `201 Created` with `Location` and `ETag`.
pub fn created<T: serde::Serialize>(location: String, body: &T, version: i32) -> HttpResponse {
    let mut response = with_etag(HttpResponse::Created(), version);
    response.insert_header((header::LOCATION, location));
    response.json(body)
}
