//! `GET /v1/events`: the event log, in commit order, for integrators and the clinic's own
//! consumers.

use std::borrow::Cow;

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::app::events::{self as app, EventQuery, Published};
use crate::domain::events::{
    CourseEventData, EventType, InquiryEventData, RecordEventData, ScheduleEventData,
    SessionEventData, WaitlistEventData,
};
use crate::error::AppError;
use crate::http::auth::EventReader;
use crate::http::extract::Query;
use crate::http::problems::*;
use crate::http::state::AppState;

const DEFAULT_LIMIT: u16 = 100;

/// What to read of the log.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The `next_cursor` of the previous read: only events committed after it. Absent: from the
    /// oldest event still kept.
    #[param(pattern = r"^[0-9]{1,18}$", example = "0")]
    #[garde(length(max = 18))]
    pub after: Option<String>,
    /// Only these types, comma-separated (e.g. `session.booked,session.cancelled`).
    #[param(
        pattern = r"^[a-z_]+\.[a-z_]+(,[a-z_]+\.[a-z_]+)*$",
        example = "session.booked,session.cancelled"
    )]
    #[garde(length(max = 2000))]
    pub types: Option<String>,
    /// Events per page, 1 to 1000.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    #[garde(inner(range(min = 1, max = 1000)))]
    pub limit: Option<u16>,
}

impl EventsQuery {
    fn to_query(&self) -> Result<EventQuery, AppError> {
        let after = match &self.after {
            None => 0,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|after| *after >= 0)
                .ok_or_else(|| AppError::field("after", "is not a cursor issued by this API"))?,
        };
        let mut types = Vec::new();
        for name in self.types.iter().flat_map(|t| t.split(',')) {
            let event_type = EventType::parse(name.trim()).ok_or_else(|| {
                // Well-formed but unknown: a rule the pattern cannot state (422).
                AppError::rule("types", format!("`{name}` is not an event type"))
            })?;
            types.push(event_type);
        }
        Ok(EventQuery {
            after,
            types,
            limit: i64::from(self.limit.unwrap_or(DEFAULT_LIMIT)),
        })
    }
}

/// What an event is about (the documented shape of `app::events::Subject`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[allow(dead_code, reason = "documents the subject's schema")]
pub struct EventSubject {
    /// `session`, `course`, `inquiry`, `patient`, `provider`, `location`, `treatment_area` or
    /// `time_off`.
    #[serde(rename = "type")]
    #[schema(example = "session")]
    pub subject_type: String,
    pub id: Uuid,
}

/// One change, as the log keeps it (`app::events::Published`, documented here). `data` has the
/// shape of its `type`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Event(Published);

impl Event {
    /// The schema of one event type: the common fields, `type` fixed, `data` of its shape.
    fn schema_of(event_type: EventType) -> Schema {
        let data = Ref::from_schema_name(event_type.data_schema());
        ObjectBuilder::new()
            .property("id", uuid_schema(false))
            .property(
                "position",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .description(Some("Where the event stands in commit order")),
            )
            .property(
                "type",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([event_type.as_str()])),
            )
            .property(
                "occurred_at",
                ObjectBuilder::new().schema_type(Type::String).format(Some(
                    utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::DateTime,
                    ),
                )),
            )
            .property("subject", Ref::from_schema_name("EventSubject"))
            .property("patient_id", uuid_schema(true))
            .property("data", data)
            .required("id")
            .required("position")
            .required("type")
            .required("occurred_at")
            .required("subject")
            .required("patient_id")
            .required("data")
            .description(Some(format!("`{}`", event_type.as_str())))
            .into()
    }

    /// The component name of an event type's schema, e.g. `SessionBookedEvent`.
    fn schema_name(event_type: EventType) -> String {
        format!("{event_type:?}Event")
    }
}

/// A UUID, or with `nullable` a UUID or `null`.
fn uuid_schema(nullable: bool) -> ObjectBuilder {
    use utoipa::openapi::schema::SchemaType;
    let types = match nullable {
        true => SchemaType::from_iter([Type::String, Type::Null]),
        false => SchemaType::new(Type::String),
    };
    ObjectBuilder::new().schema_type(types).format(Some(
        utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid),
    ))
}

impl PartialSchema for Event {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new();
        let mut mapping = Vec::new();
        for event_type in EventType::ALL {
            let name = Self::schema_name(*event_type);
            mapping.push((
                event_type.as_str().to_owned(),
                format!("#/components/schemas/{name}"),
            ));
            one_of = one_of.item(Ref::from_schema_name(name));
        }
        one_of
            .discriminator(Some(Discriminator::with_mapping("type", mapping)))
            .into()
    }
}

impl ToSchema for Event {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Event")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("EventSubject".into(), EventSubject::schema()));
        for (name, schema) in [
            ("SessionEventData", SessionEventData::schema()),
            ("CourseEventData", CourseEventData::schema()),
            ("InquiryEventData", InquiryEventData::schema()),
            ("RecordEventData", RecordEventData::schema()),
            ("ScheduleEventData", ScheduleEventData::schema()),
            ("WaitlistEventData", WaitlistEventData::schema()),
        ] {
            schemas.push((name.into(), schema));
        }
        SessionEventData::schemas(schemas);
        CourseEventData::schemas(schemas);
        InquiryEventData::schemas(schemas);
        WaitlistEventData::schemas(schemas);
        for event_type in EventType::ALL {
            schemas.push((
                Self::schema_name(*event_type),
                Self::schema_of(*event_type).into(),
            ));
        }
    }
}

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events in commit order.
    pub items: Vec<Event>,
    /// Pass as `after` to read on; always present, even when the page is empty.
    #[schema(example = "1024")]
    pub next_cursor: String,
}

/// Read the event log
///
/// Every change to sessions, courses, inquiries, patients and the catalog, in the order the
/// changes committed. Poll with the last `next_cursor` as `after`: nothing is missed, even an
/// event whose transaction began before others and committed after them. Events hold ids,
/// times, statuses and reason codes, never personal details; they are kept
/// `PROLO_EVENT_RETENTION_DAYS` (90 by default). Admin and integration keys.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(EventsQuery),
    responses(
        (status = 200, description = "One page of events, in commit order", body = EventPage),
        (status = 400, response = BadRequest),
        (status = 422, response = UnprocessableValues),
        AuthErrors, ServerErrors,
    )
)]
#[get("/events")]
pub async fn list_events(
    EventReader(caller): EventReader,
    state: web::Data<AppState>,
    Query(query): Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.to_query()?;
    let mut conn = state.conn().await?;
    let page = app::read(&mut conn, &caller, query).await?;
    Ok(HttpResponse::Ok().json(EventPage {
        items: page
            .events
            .into_iter()
            .map(|row| Event(row.into()))
            .collect(),
        next_cursor: page.next_after.to_string(),
    }))
}
