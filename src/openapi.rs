//! The root of the OpenAPI document: info, tags and shared components. Paths come from the
//! handlers themselves, collected by `utoipa-actix-web`.

use utoipa::OpenApi;

use crate::error::{FieldError, ProblemType};
use crate::http::problem::Problem;
use crate::http::problems::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "prolo-scheduler",
        description = "Scheduling backend of a prolotherapy clinic.\n\nInstants are RFC 3339 with an offset. Every instant that belongs to a location (a session, its history, a course and its progress, a provider's time off when the provider's locations share one zone) is written in that location's IANA zone with its offset; where no location applies (keys, the audit trail, catalog and patient records, inquiries), in UTC, written `Z`. Unknown query parameters are refused (400).",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "access", description = "API keys, the caller's identity, and the audit trail"),
        (name = "problems", description = "What each problem `type` means"),
        (name = "patients", description = "Patients: personal health information, every access audited"),
        (name = "sessions", description = "Booking, moving, cancelling and recording sessions"),
        (name = "courses", description = "Treatment courses: plan, book and track a series of sessions"),
        (name = "inquiries", description = "The website's contact form: public intake, the front desk's triage, and conversion into a patient with a booked assessment"),
        (name = "locations", description = "Clinic sites and their time zones"),
        (name = "treatment-areas", description = "Body regions treated, with session durations and course defaults"),
        (name = "resources", description = "Rooms and devices (a procedure room, an ultrasound machine) that sessions need besides their provider, and their downtime"),
        (name = "waitlist", description = "Patients waiting for an earlier time: entries, offers of freed times by email (the first to accept gets the time), and who fits which open slot"),
        (name = "providers", description = "Clinicians, the areas they treat, where and when they work, and their time off"),
        (name = "settings", description = "The clinic's scheduling rules"),
        (name = "events", description = "The event log: every change, in commit order, without personal details"),
        (name = "notifications", description = "Confirmations, reminders and notices emailed to patients with calendar invites, and the one-click unsubscribe link they carry"),
        (name = "webhooks", description = "Signed events (Standard Webhooks v1) pushed to the receivers an admin registers, with every delivery and attempt"),
        (name = "online booking", description = "Patients book without a key: hold a slot, prove their email with a mailed code, and manage the session through its link; the booking page itself"),
    ),
    components(
        schemas(Problem, FieldError),
        responses(
            BadRequest, UnprocessableValues, Unauthorized, Forbidden, RateLimited, NotFound, SlugTaken, Duplicate, InUse, ScheduleConflict, OutsideWorkingHours, ProviderOnTimeOff, ProviderNotEligible, TooShortNotice, BeyondHorizon, TimeWithoutOffset, InactiveRecord, TooEarly, OutsideVisitWindow, IdempotencyKeyReused, CourseNotPlannable, CourseWindowBroken, SlotTaken, ResourceUnavailable, PatientDoubleBooked, InvalidTransition, AlreadyConverted, InquiryErased, HoldExpired, BookingRequestClosed, PreconditionFailed,
            PreconditionRequired, PayloadTooLarge, RequestTimeout, UnsupportedMediaType, ServiceUnavailable, InternalError,
        )
    ),
    modifiers(&BearerScheme)
)]
struct RootDoc;

/// The `bearer` security scheme operations name in their `security`.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer prolo_…`"))
                    .build(),
            ),
        );
    }
}

/// The root document, with the problem types listed in its description.
pub fn root() -> utoipa::openapi::OpenApi {
    let mut doc = RootDoc::openapi();
    let mut description = String::from(
        "Scheduling backend of a prolotherapy clinic: locations, treatment areas, providers, \
         their working hours and time off, and the clinic's scheduling rules.\n\n\
         Instants are RFC 3339 with an offset; wall-clock times are `HH:MM` in the location's \
         IANA time zone. Lists take `limit` (1-100, default 20) and `cursor`, and answer \
         `{items, next_cursor}`. Single resources carry an `ETag`; `PATCH` requires `If-Match`.\n\n\
         ## Problem types\nEvery error is `application/problem+json` (RFC 9457). Its `type` is one of:\n\n\
         | type | status | meaning |\n| --- | --- | --- |\n",
    );
    for kind in ProblemType::ALL {
        description.push_str(&format!(
            "| `{}` | {} | {} |\n",
            kind.uri(),
            kind.status(),
            kind.description()
        ));
    }
    doc.info.description = Some(description);
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// Finishes the assembled document: every operation that validates its input (it documents a
/// 400) can also answer 422 `unprocessable-values`, said here once rather than on each
/// operation. Where an operation documents 422 already, the description names both.
pub fn complete(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{Ref, RefOr};
    let requests = request_schemas(&document);
    if let Some(components) = document.components.as_mut() {
        for schema in components.schemas.values_mut() {
            refine(schema, None);
        }
        page_items_by_reference(components);
        answered_fields_required(components, &requests);
    }
    let kind = ProblemType::UnprocessableValues;
    let components = document.components.clone();
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter {
                    constrain_header(parameter);
                }
            }
            let responses = &mut operation.responses.responses;
            if !responses.contains_key("400") {
                continue;
            }
            let combined = match responses.get("422") {
                None => RefOr::Ref(Ref::from_response_name("UnprocessableValues")),
                Some(existing) => {
                    let mut response = match existing {
                        RefOr::T(response) => response.clone(),
                        RefOr::Ref(reference) => match resolve(&components, reference) {
                            Some(response) => response,
                            None => continue,
                        },
                    };
                    if !response.description.contains(kind.slug()) {
                        response.description = format!(
                            "{} Or `{}`: {}",
                            response.description,
                            kind.slug(),
                            kind.description()
                        );
                    }
                    RefOr::T(response)
                }
            };
            responses.insert("422".to_owned(), combined);
        }
    }
    document
}

/// A page's items refer to their schema (`Page_Session.items` are `Session`s), so that
/// generated clients have one type per resource rather than one more per list.
fn page_items_by_reference(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::schema::ArrayItems;
    use utoipa::openapi::{Ref, RefOr, Schema};
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for name in &names {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !components.schemas.contains_key(item) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(name)
            && let Some(RefOr::T(Schema::Array(array))) = page.properties.get_mut("items")
        {
            array.items =
                ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
        }
    }
}

/// Fields that serde leaves out when they are empty (`skip_serializing_if`): the only ones
/// of an answer that may be absent.
const MAY_BE_ABSENT: [(&str, &str); 10] = [
    ("Course", "sessions"),
    ("Course", "progress"),
    ("Problem", "errors"),
    ("Problem", "existing_id"),
    ("Problem", "patient_id"),
    ("Problem", "session_id"),
    ("Problem", "allowed_from"),
    ("Problem", "allowed_until"),
    ("Problem", "tag"),
    ("Problem", "session_ids"),
];

/// Every field of a schema that only answers use is always there, `null` or not: it is
/// required, so that generated clients read `session.course_id` as `string | null` rather
/// than as a field that may be missing. Schemas that requests use keep their optional fields.
fn answered_fields_required(
    components: &mut utoipa::openapi::Components,
    requests: &std::collections::BTreeSet<String>,
) {
    use utoipa::openapi::{RefOr, Schema};
    for (name, schema) in components.schemas.iter_mut() {
        if requests.contains(name) {
            continue;
        }
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for property in object.properties.keys() {
            let absent = MAY_BE_ABSENT.contains(&(name.as_str(), property.as_str()));
            if !absent && !object.required.contains(property) {
                object.required.push(property.clone());
            }
        }
    }
}

/// The component schemas a request body or parameter refers to, directly or through others.
fn request_schemas(document: &utoipa::openapi::OpenApi) -> std::collections::BTreeSet<String> {
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref")
                    && let Some(name) = target.strip_prefix("#/components/schemas/")
                {
                    found.push(name.to_owned());
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let json = serde_json::to_value(document).unwrap_or_default();
    let mut pending = Vec::new();
    for item in json["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&operation["requestBody"], &mut pending);
            refs(&operation["parameters"], &mut pending);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            refs(&json["components"]["schemas"][&name], &mut pending);
        }
    }
    seen
}

/// The forms the conditional and idempotency headers take, said on every operation naming them:
/// an entity-tag list or `*` (RFC 9110; named by its own format, `entity-tags`, so that tools
/// can be taught to generate it), and 1 to 255 visible ASCII characters.
fn constrain_header(parameter: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::SchemaFormat;
    let (pattern, format) = match parameter.name.as_str() {
        "If-Match" => (
            crate::http::conditional::IF_MATCH_PATTERN,
            Some(SchemaFormat::Custom("entity-tags".to_owned())),
        ),
        "Idempotency-Key" => (r"^[\x21-\x7e]{1,255}$", None),
        _ => return,
    };
    if parameter.parameter_in != ParameterIn::Header {
        return;
    }
    parameter.schema = Some(
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(format)
            .pattern(Some(pattern))
            .into(),
    );
}

/// Says in every schema what the rules check, once here instead of on each struct:
/// - each `email` and `phone` property gets the exact form its rule accepts (`rules::email`,
///   `rules::phone`);
/// - text marked with a [`TextForm`]'s format gets that form's pattern in its place;
/// - a nullable string with a format (`uuid`, `date`, `date-time`) is written
///   `anyOf: [{type: string, format}, {type: null}]`: the same values as
///   `type: [string, null]`, in the form generators handle (schemathesis 4.32 draws `""`
///   for `type: [string, null], format: uuid`).
fn refine(schema: &mut utoipa::openapi::RefOr<utoipa::openapi::Schema>, property: Option<&str>) {
    use crate::http::rules::{EMAIL_PATTERN, PHONE_PATTERN, TextForm};
    use utoipa::openapi::schema::{ArrayItems, SchemaFormat};
    use utoipa::openapi::{RefOr, Schema};
    let RefOr::T(node) = schema else { return };
    match node {
        Schema::Object(object) => {
            let contact = match property {
                Some("email") => Some((EMAIL_PATTERN, 254)),
                Some("phone") => Some((PHONE_PATTERN, 32)),
                _ => None,
            };
            if let Some((pattern, max)) = contact {
                object.pattern = Some(pattern.to_owned());
                object.max_length = Some(max);
            }
            if let Some(SchemaFormat::Custom(marker)) = &object.format
                && let Some(form) = TextForm::ALL.into_iter().find(|f| f.marker() == marker)
            {
                object.pattern = Some(form.pattern());
                object.format = None;
            }
            for (name, property) in object.properties.iter_mut() {
                refine(property, Some(name));
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                refine(items, None);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(|item| refine(item, None)),
        Schema::AllOf(all) => all.items.iter_mut().for_each(|item| refine(item, None)),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(|item| refine(item, None)),
        _ => {}
    }
    if let Some(split) = split_nullable_format(node) {
        *schema = RefOr::T(split);
    }
}

/// `{type: [string, null], format}` as `anyOf` of the string and `null` (see [`refine`]).
fn split_nullable_format(schema: &utoipa::openapi::Schema) -> Option<utoipa::openapi::Schema> {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, SchemaType, Type};
    let utoipa::openapi::Schema::Object(object) = schema else {
        return None;
    };
    let nullable_string = matches!(&object.schema_type, SchemaType::Array(types)
        if types.len() == 2 && types.contains(&Type::String) && types.contains(&Type::Null));
    if !nullable_string || object.format.is_none() {
        return None;
    }
    let mut string = object.clone();
    string.schema_type = SchemaType::Type(Type::String);
    string.description = None;
    let split = AnyOfBuilder::new()
        .item(string)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(object.description.clone())
        .build();
    Some(utoipa::openapi::Schema::AnyOf(split))
}

/// The shared response `reference` names.
fn resolve(
    components: &Option<utoipa::openapi::Components>,
    reference: &utoipa::openapi::Ref,
) -> Option<utoipa::openapi::Response> {
    let name = reference.ref_location.rsplit('/').next()?;
    match components.as_ref()?.responses.get(name)? {
        utoipa::openapi::RefOr::T(response) => Some(response.clone()),
        utoipa::openapi::RefOr::Ref(_) => None,
    }
}
