//! The shared error responses every operation names in the OpenAPI document, and the
//! problem responses for requests that match no route.

use std::collections::BTreeMap;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, get};
use serde_json::json;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};

use crate::error::{FieldError, ProblemType};
use crate::http::problem::{PROBLEM_JSON, problem_response};

fn documented(kind: ProblemType, errors: Vec<FieldError>) -> RefOr<Response> {
    let mut example = json!({
        "type": kind.uri(),
        "title": kind.title(),
        "status": kind.status(),
        "detail": kind.description(),
    });
    if !errors.is_empty() {
        let detail = match kind {
            ProblemType::UnprocessableValues => "field(s) break a rule",
            _ => "field(s) failed validation",
        };
        example["detail"] = json!(format!("{} {detail}", errors.len()));
        example["errors"] = json!(errors);
    }
    let mut response = ResponseBuilder::new()
        .description(kind.description())
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .example(Some(example))
                .build(),
        );
    if kind == ProblemType::ServiceUnavailable {
        response = response.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::Integer),
                ))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    response.build().into()
}

macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident => $kind:expr, $errors:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), documented($kind, $errors))
            }
        }
    )*};
}

problem_responses! {
    /// 400: a field is missing, malformed or out of range.
    BadRequest => ProblemType::ValidationFailed,
        vec![FieldError::new("time_zone", "not a known IANA time zone name (e.g. America/Denver)")];
    /// 422: well-formed values that break a rule the schema cannot state.
    UnprocessableValues => ProblemType::UnprocessableValues,
        vec![FieldError::new("patient_id", "names a patient that does not exist")];
    /// 401: no valid key.
    Unauthorized => ProblemType::Unauthorized, vec![];
    /// 403: the key's role may not do this.
    Forbidden => ProblemType::Forbidden, vec![];
    /// 429: too many requests.
    RateLimited => ProblemType::RateLimited, vec![];
    /// 404: no such resource.
    NotFound => ProblemType::NotFound, vec![];
    /// 409: the slug of a treatment area is taken.
    SlugTaken => ProblemType::SlugTaken, vec![];
    /// 409: the same record exists already.
    Duplicate => ProblemType::Duplicate, vec![];
    /// 409: the record is still referenced.
    InUse => ProblemType::InUse, vec![];
    /// 409: schedule entries would overlap.
    ScheduleConflict => ProblemType::ScheduleConflict, vec![];
    /// UNPROCESSABLE_ENTITY: The time is outside the provider's working hours.
    OutsideWorkingHours => ProblemType::OutsideWorkingHours, vec![];
    /// UNPROCESSABLE_ENTITY: The provider is on time off.
    ProviderOnTimeOff => ProblemType::ProviderOnTimeOff, vec![];
    /// UNPROCESSABLE_ENTITY: The provider cannot take this session.
    ProviderNotEligible => ProblemType::ProviderNotEligible, vec![];
    /// UNPROCESSABLE_ENTITY: The start is too soon.
    TooShortNotice => ProblemType::TooShortNotice, vec![];
    /// UNPROCESSABLE_ENTITY: The start is too far ahead.
    BeyondHorizon => ProblemType::BeyondHorizon, vec![];
    /// UNPROCESSABLE_ENTITY: The time has no UTC offset.
    TimeWithoutOffset => ProblemType::TimeWithoutOffset, vec![];
    /// UNPROCESSABLE_ENTITY: A record the request names is archived.
    InactiveRecord => ProblemType::InactiveRecord, vec![];
    /// UNPROCESSABLE_ENTITY: Not possible before the session starts.
    TooEarly => ProblemType::TooEarly, vec![];
    /// UNPROCESSABLE_ENTITY: A check-in or completion outside the visit's window.
    OutsideVisitWindow => ProblemType::OutsideVisitWindow, vec![];
    /// UNPROCESSABLE_ENTITY: The Idempotency-Key was used with another request.
    IdempotencyKeyReused => ProblemType::IdempotencyKeyReused, vec![];
    /// CONFLICT: The provider is already booked then.
    SlotTaken => ProblemType::SlotTaken, vec![];
    /// 409: no free room or device carries a tag the session needs (`tag` names it).
    ResourceUnavailable => ProblemType::ResourceUnavailable, vec![];
    /// CONFLICT: The patient is already booked then.
    PatientDoubleBooked => ProblemType::PatientDoubleBooked, vec![];
    /// CONFLICT: The session cannot change this way.
    InvalidTransition => ProblemType::InvalidTransition, vec![];
    /// 409: the inquiry was converted before.
    AlreadyConverted => ProblemType::AlreadyConverted, vec![];
    /// 409: the inquiry's personal data was erased.
    InquiryErased => ProblemType::InquiryErased, vec![];
    /// 422: a course that cannot be planned whole.
    CourseNotPlannable => ProblemType::CourseNotPlannable, vec![];
    /// 422: a move that breaks a course's interval window.
    CourseWindowBroken => ProblemType::CourseWindowBroken, vec![];
    /// 409: the hold expired or was used.
    HoldExpired => ProblemType::HoldExpired, vec![];
    /// 409: the booking request was verified, voided or expired.
    BookingRequestClosed => ProblemType::BookingRequestClosed, vec![];
    /// 409: another offer of the time was accepted, or it was booked otherwise.
    OfferTaken => ProblemType::OfferTaken, vec![];
    /// 409: the offer expired, or its waitlist entry ended.
    OfferExpired => ProblemType::OfferExpired, vec![];
    /// 412: `If-Match` is stale.
    PreconditionFailed => ProblemType::PreconditionFailed, vec![];
    /// 428: `If-Match` is missing.
    PreconditionRequired => ProblemType::PreconditionRequired, vec![];
    /// 413: body over the limit.
    PayloadTooLarge => ProblemType::PayloadTooLarge, vec![];
    /// 408: body too slow.
    RequestTimeout => ProblemType::RequestTimeout, vec![];
    /// 415: body is not JSON.
    UnsupportedMediaType => ProblemType::UnsupportedMediaType, vec![];
    /// 503: the database is unreachable.
    ServiceUnavailable => ProblemType::ServiceUnavailable, vec![];
    /// 500: an unexpected error.
    InternalError => ProblemType::Internal, vec![];
}

/// 503 and 500, which any operation that touches the database can answer.
pub struct ServerErrors;

impl utoipa::IntoResponses for ServerErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "500".to_owned(),
                Ref::from_response_name("InternalError").into(),
            ),
            (
                "503".to_owned(),
                Ref::from_response_name("ServiceUnavailable").into(),
            ),
        ])
    }
}

/// 401, 403 and 429, which any operation that needs a key can answer.
pub struct AuthErrors;

impl utoipa::IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "401".to_owned(),
                Ref::from_response_name("Unauthorized").into(),
            ),
            (
                "403".to_owned(),
                Ref::from_response_name("Forbidden").into(),
            ),
            (
                "429".to_owned(),
                Ref::from_response_name("RateLimited").into(),
            ),
        ])
    }
}

/// 401 (a bad key sent anyway) and 429, which public operations can answer.
pub struct PublicErrors;

impl utoipa::IntoResponses for PublicErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "401".to_owned(),
                Ref::from_response_name("Unauthorized").into(),
            ),
            (
                "429".to_owned(),
                Ref::from_response_name("RateLimited").into(),
            ),
        ])
    }
}

/// 400, 413 and 415, which any operation with a JSON body can answer.
pub struct BodyErrors;

impl utoipa::IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "400".to_owned(),
                Ref::from_response_name("BadRequest").into(),
            ),
            (
                "413".to_owned(),
                Ref::from_response_name("PayloadTooLarge").into(),
            ),
            (
                "415".to_owned(),
                Ref::from_response_name("UnsupportedMediaType").into(),
            ),
            (
                "408".to_owned(),
                Ref::from_response_name("RequestTimeout").into(),
            ),
        ])
    }
}

/// The routes the OpenAPI document declares, to tell "no such URL" (404) from "wrong method"
/// (405), and which query parameters each operation takes.
pub struct KnownRoutes(Vec<(actix_web::dev::ResourceDef, Vec<Operation>)>);

/// One documented operation: its method and the names of its query parameters.
struct Operation {
    method: Method,
    query: Vec<String>,
}

impl KnownRoutes {
    /// Collects the paths, methods and query parameters of `document`.
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::{Operation as Documented, ParameterIn};
        let query = |operation: &Documented| {
            operation
                .parameters
                .iter()
                .flatten()
                .filter_map(|parameter| match parameter {
                    RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Query => {
                        Some(parameter.name.clone())
                    }
                    _ => None,
                })
                .collect()
        };
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let operations = [
                    (&item.get, Method::GET),
                    (&item.put, Method::PUT),
                    (&item.post, Method::POST),
                    (&item.delete, Method::DELETE),
                    (&item.patch, Method::PATCH),
                ]
                .into_iter()
                .filter_map(|(operation, method)| {
                    operation.as_ref().map(|operation| Operation {
                        method,
                        query: query(operation),
                    })
                })
                .collect();
                (actix_web::dev::ResourceDef::new(path.as_str()), operations)
            })
            .collect();
        Self(routes)
    }

    /// The operations of the documented path that `path` names most specifically: with
    /// `/v1/courses/plan` and `/v1/courses/{id}` both matching, the literal one.
    fn operations(&self, path: &str) -> Option<&[Operation]> {
        self.0
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .min_by_key(|(def, _)| def.pattern().map_or(0, |p| p.matches('{').count()))
            .map(|(_, operations)| operations.as_slice())
    }

    /// The methods of the documented path that `path` names, if it is documented.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        self.operations(path)
            .map(|operations| operations.iter().map(|o| o.method.clone()).collect())
    }

    /// The query parameters of the documented operation `method path`, if it is documented.
    pub fn query_parameters(&self, method: &Method, path: &str) -> Option<&[String]> {
        self.operations(path)?
            .iter()
            .find(|operation| operation.method == method)
            .map(|operation| operation.query.as_slice())
    }
}

/// Answers requests that matched no route: 405 with `Allow` when the path exists, else 404.
pub async fn no_route(req: HttpRequest, known: actix_web::web::Data<KnownRoutes>) -> HttpResponse {
    match known.allowed(req.path()) {
        Some(methods) if !methods.is_empty() => method_not_allowed(&req, &methods),
        _ => problem_response(
            ProblemType::NotFound,
            format!("no route matches {}", req.path()),
            vec![],
        ),
    }
}

/// 405 naming the methods `methods` in `Allow`.
pub fn method_not_allowed(req: &HttpRequest, methods: &[Method]) -> HttpResponse {
    let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
    let mut response = problem_response(
        ProblemType::MethodNotAllowed,
        format!(
            "{} is not allowed here; allowed: {}",
            req.method(),
            allow.join(", ")
        ),
        vec![],
    );
    if let Ok(value) = header::HeaderValue::from_str(&allow.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// What a problem type means, served at its own `type` URI.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProblemTypeDoc {
    #[serde(rename = "type")]
    #[schema(example = "/problems/slug-taken")]
    pub problem_type: String,
    #[schema(example = "The slug is already taken")]
    pub title: String,
    #[schema(example = 409)]
    pub status: u16,
    #[schema(example = "Another treatment area already uses this slug.")]
    pub description: String,
}

/// Describe a problem type
///
/// Every problem's `type` is a URI under `/problems/`; dereferencing it tells what it means.
#[utoipa::path(
    tag = "problems",
    params(("slug" = String, Path, description = "The last segment of a problem `type`", example = "validation-failed")),
    responses(
        (status = 200, description = "The problem type", body = ProblemTypeDoc),
        (status = 404, response = NotFound),
    )
)]
#[get("/problems/{slug}")]
pub async fn describe_problem_type(slug: actix_web::web::Path<String>) -> HttpResponse {
    match ProblemType::ALL
        .into_iter()
        .find(|kind| kind.slug() == slug.as_str())
    {
        Some(kind) => HttpResponse::Ok().json(ProblemTypeDoc {
            problem_type: kind.uri(),
            title: kind.title().to_owned(),
            status: kind.status(),
            description: kind.description().to_owned(),
        }),
        None => problem_response(
            ProblemType::NotFound,
            format!("no problem type {slug}"),
            vec![],
        ),
    }
}
