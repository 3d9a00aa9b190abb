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
        let values: Vec<&str> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .collect();
        let expected = if values.is_empty() {
            None
        } else if values.contains(&"*") {
            Some(Expected::Any)
        } else {
            // Weak tags never match under If-Match (RFC 9110 strong comparison).
            let version = values.iter().find_map(|tag| {
                tag.strip_prefix('"')?
                    .strip_suffix('"')?
                    .parse::<i32>()
                    .ok()
            });
            Some(version.map_or(Expected::Never, Expected::Version))
        };
        std::future::ready(Ok(IfMatch(expected)))
    }
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
