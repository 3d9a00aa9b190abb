//! Request extractors whose failures are problem responses naming the failing field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 64 * 1024;

/// How long a body may take to arrive, whole: a client trickling its body cannot hold a
/// worker's connection for longer (the head has its own 5 s limit).
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// A JSON body, deserialized and validated; errors name the field (`intervals[2].start`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> FromRequest for Json<T>
where
    T: DeserializeOwned + garde::Validate<Context = ()> + 'static,
{
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<mime::Mime>().ok())
            .is_some_and(|mime| {
                mime.type_() == mime::APPLICATION
                    && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
            });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(AppError::UnsupportedMediaType);
            }
            let bytes = tokio::time::timeout(BODY_DEADLINE, body)
                .await
                .map_err(|_| AppError::BodyTimeout)?
                .map_err(|error| match error.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => AppError::PayloadTooLarge,
                    _ => AppError::field("body", "the request body could not be read"),
                })?;
            let value = parse_json::<T>(&bytes)?;
            validate(&value)?;
            Ok(Json(value))
        })
    }
}

/// An optional body: none, or `null`, is the default; anything else must be the object.
pub fn optional_json<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, AppError> {
    match bytes.trim_ascii() {
        b"" | b"null" => Ok(T::default()),
        given => parse_json(given),
    }
}

/// Deserializes a JSON object, reporting the path of the first field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Every request body of this API is an object; say so rather than report a position.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(AppError::field("body", "must be a JSON object"));
    }
    if has_nul_escape(bytes) {
        return Err(AppError::field(
            "body",
            "text must not contain the NUL character (\\u0000)",
        ));
    }
    let mut tree: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| AppError::field("body", format!("malformed JSON: {error}")))?;
    integral_numbers_as_integers(&mut tree);
    serde_path_to_error::deserialize(tree).map_err(|error| {
        let path = error.path().to_string();
        field_error(&path, &strip_position(&error.into_inner().to_string()))
    })
}

/// JSON Schema counts `53.0` as an integer (its fraction is zero), so clients and generators
/// may send it for an `integer` field; serde would refuse it. Such numbers become integers.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                *number = serde_json::Number::from(float as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(integral_numbers_as_integers)
        }
        _ => {}
    }
}

/// Whether a JSON text holds `\u0000` in a string: PostgreSQL cannot store NUL in text, so it
/// is refused before it reaches the database (a raw NUL byte is malformed JSON already).
fn has_nul_escape(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(at, window)| {
        window == b"\\u0000" && {
            // The backslash escapes `u` only when the backslashes before it come in pairs.
            let before = bytes[..at]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count();
            before % 2 == 0
        }
    })
}

/// A query string, deserialized and validated; errors name the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> FromRequest for Query<T>
where
    T: DeserializeOwned + garde::Validate<Context = ()> + 'static,
{
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

fn parse_query<T>(query: &str) -> Result<T, AppError>
where
    T: DeserializeOwned + garde::Validate<Context = ()>,
{
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        field_error(&path, &error.into_inner().to_string())
    })?;
    validate(&value)?;
    Ok(value)
}

/// Runs the type's declared rules, reporting every failing field at once: 400 when a value
/// breaks the schema (with every failure), 422 when only rules beyond it fail.
pub fn validate<T: garde::Validate<Context = ()>>(value: &T) -> Result<(), AppError> {
    value.validate().map_err(|report| {
        let mut beyond_schema = true;
        let errors = report
            .iter()
            .map(|(path, error)| {
                let (message, rule) = super::rules::classify(error.message());
                beyond_schema &= rule;
                FieldError::new(path.to_string(), message)
            })
            .collect();
        if beyond_schema {
            AppError::Rules(errors)
        } else {
            AppError::Validation(errors)
        }
    })
}

/// Turns serde's message into a field error; "missing field `x`" names `x` itself.
fn field_error(path: &str, message: &str) -> AppError {
    let parent = if path == "." { "" } else { path };
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        let field = if parent.is_empty() {
            missing.to_owned()
        } else {
            format!("{parent}.{missing}")
        };
        return AppError::field(field, "is required");
    }
    if let Some(unknown) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        // The path already ends at the unknown field.
        let field = if parent.is_empty() { unknown } else { parent };
        return AppError::field(field, "is not a known field");
    }
    let field = if parent.is_empty() { "body" } else { parent };
    AppError::field(field, message)
}

/// serde_json appends " at line 1 column 20"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// Turns a path-parameter failure into a problem naming the parameter that is not a UUID.
pub fn path_error(error: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    // `PATCH /v1/courses/plan` reaches `PATCH /v1/courses/{id}`, but names the literal path
    // `/v1/courses/plan`, which has no PATCH: that is a 405, not a bad id.
    let known = req.app_data::<web::Data<crate::http::problems::KnownRoutes>>();
    if let Some(methods) = known.and_then(|known| known.allowed(req.path()))
        && !methods.contains(req.method())
    {
        let response = crate::http::problems::method_not_allowed(req, &methods);
        return actix_web::error::InternalError::from_response(error, response).into();
    }
    let field = req
        .match_info()
        .iter()
        .find(|(_, value)| uuid::Uuid::parse_str(value).is_err())
        .map(|(name, _)| name.to_owned())
        .unwrap_or_else(|| "path".to_owned());
    AppError::field(field, "must be a UUID").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, garde::Validate)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[garde(range(min = 1))]
        min: u32,
    }

    #[derive(Debug, serde::Deserialize, garde::Validate)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[garde(length(min = 1))]
        name: String,
        #[garde(dive)]
        items: Vec<Inner>,
    }

    fn fields(error: AppError) -> Vec<String> {
        match error {
            AppError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let missing = parse_json::<Outer>(br#"{"items": []}"#).unwrap_err();
        assert_eq!(fields(missing), ["name"]);
        let nested = parse_json::<Outer>(br#"{"name": "x", "items": [{"min": 1}, {"min": "a"}]}"#)
            .unwrap_err();
        assert_eq!(fields(nested), ["items[1].min"]);
        let unknown = parse_json::<Outer>(br#"{"name": "x", "items": [], "nmae": 1}"#).unwrap_err();
        assert_eq!(fields(unknown), ["nmae"]);
        let syntax = parse_json::<Outer>(br#"{"name": "#).unwrap_err();
        assert_eq!(fields(syntax), ["body"]);
    }

    #[derive(Debug, garde::Validate)]
    struct Window {
        #[garde(length(min = 1))]
        name: String,
        #[garde(custom(later_than(&self.start)))]
        end: u32,
        #[garde(skip)]
        start: u32,
    }

    fn later_than(start: &u32) -> impl FnOnce(&u32, &()) -> garde::Result + '_ {
        move |end, _| match end > start {
            true => Ok(()),
            false => Err(crate::http::rules::beyond_schema(
                "must be later than start",
            )),
        }
    }

    #[test]
    fn rules_beyond_the_schema_are_422_unless_the_schema_is_broken_too() {
        let order = Window {
            name: "x".into(),
            end: 1,
            start: 2,
        };
        match validate(&order).unwrap_err() {
            AppError::Rules(errors) => assert_eq!(errors[0].message, "must be later than start"),
            other => panic!("expected a rule, got {other:?}"),
        }
        let both = Window {
            name: String::new(),
            end: 1,
            start: 2,
        };
        assert_eq!(fields(validate(&both).unwrap_err()), ["end", "name"]);
    }

    #[test]
    fn a_number_with_a_zero_fraction_is_an_integer_as_in_json_schema() {
        let whole: Outer = parse_json(br#"{"name": "x", "items": [{"min": 53.0}]}"#).unwrap();
        assert_eq!(whole.items[0].min, 53);
        let half = parse_json::<Outer>(br#"{"name": "x", "items": [{"min": 53.5}]}"#).unwrap_err();
        assert_eq!(fields(half), ["items[0].min"]);
    }

    #[test]
    fn a_nul_character_is_refused_but_an_escaped_backslash_before_u0000_is_text() {
        let nul = parse_json::<Outer>(br#"{"name": "a\u0000b", "items": []}"#).unwrap_err();
        assert_eq!(fields(nul), ["body"]);
        let upper = parse_json::<Outer>(br#"{"name": "a\U0000", "items": []}"#).unwrap_err();
        assert_eq!(fields(upper), ["body"]);
        let text: Outer = parse_json(br#"{"name": "C:\\u0000", "items": []}"#).unwrap();
        assert_eq!(text.name, "C:\\u0000");
    }

    #[test]
    fn rule_failures_are_all_reported() {
        let value: Outer = parse_json(br#"{"name": "", "items": [{"min": 0}]}"#).unwrap();
        let mut named = fields(validate(&value).unwrap_err());
        named.sort();
        assert_eq!(named, ["items[0].min", "name"]);
    }
}
