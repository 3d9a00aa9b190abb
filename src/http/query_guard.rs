//! The query string of every documented operation is checked against the document before any
//! handler runs: a parameter the operation does not take, or a value PostgreSQL cannot store
//! (the NUL character), is a 400 naming the parameter. The typed extractors then check each
//! value's form and range (see `rules::parse_instant` and `rules::date`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::error::{AppError, FieldError};
use crate::http::problems::KnownRoutes;

/// Refuses unknown query parameters and NUL characters in query strings.
pub async fn check_query(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Most requests carry no query at all: nothing to look up.
    if req.query_string().is_empty() {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let known = req.app_data::<web::Data<KnownRoutes>>().cloned();
    let documented = known
        .as_ref()
        .and_then(|known| known.query_parameters(req.method(), req.path()));
    if let Some(parameters) = documented
        && let Err(error) = check(req.query_string(), parameters)
    {
        let response = error.error_response();
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Every failing parameter of `query` for an operation that takes `parameters`.
fn check(query: &str, parameters: &[String]) -> Result<(), AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if errors.iter().any(|error| error.field == name) {
            continue;
        }
        if name.contains('\0') {
            errors.push(FieldError::new(
                "query",
                "a parameter name must not contain the NUL character",
            ));
        } else if !parameters.iter().any(|known| *known == name) {
            let message = if parameters.is_empty() {
                "is not a parameter of this operation, which takes none".to_owned()
            } else {
                format!(
                    "is not a parameter of this operation (it takes {})",
                    parameters.join(", ")
                )
            };
            errors.push(FieldError::new(name, message));
        } else if value.contains('\0') {
            errors.push(FieldError::new(
                name,
                "must not contain the NUL character (%00)",
            ));
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(AppError::Validation(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(query: &str) -> Vec<String> {
        let parameters = ["q".to_owned(), "limit".to_owned()];
        match check(query, &parameters) {
            Ok(()) => vec![],
            Err(AppError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn documented_parameters_pass() {
        assert!(failing("q=knee&limit=5").is_empty());
        assert!(failing("").is_empty());
    }

    #[test]
    fn unknown_parameters_and_nul_are_named() {
        assert_eq!(failing("qq=1&limit=2"), ["qq"]);
        assert_eq!(failing("q=%00x"), ["q"]);
        assert_eq!(failing("a%00=1"), ["query"]);
        assert_eq!(failing("x=1&x=2&y=3"), ["x", "y"]);
    }
}
