//! Inquiries: `/v1/inquiries`. The website's contact form posts here without a key; the front
//! desk triages what arrives and converts an inquiry into a patient with a booked assessment.
//! Personal data: every staff access is audited, and no value travels in a URL.

pub mod convert;
pub mod intake;
pub mod triage;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::contact::ContactMethod;
use crate::domain::inquiries::SymptomDuration;
use crate::domain::inquiries::{InquiryKind, InquiryStatus};
use crate::domain::time::{WallTime, Weekday};
use crate::models::inquiries as model;

/// A weekly window in the clinic's local time when the visitor would like to come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct PreferredWindow {
    #[garde(skip)]
    pub weekday: Weekday,
    #[garde(skip)]
    pub start: WallTime,
    #[garde(custom(after(&self.start)))]
    pub end: WallTime,
}

fn after(start: &WallTime) -> impl FnOnce(&WallTime, &()) -> garde::Result + '_ {
    move |end, _| {
        if end > start {
            Ok(())
        } else {
            Err(crate::http::rules::beyond_schema("must be after start"))
        }
    }
}

/// When the visitor would like to come: weekly windows, or their own words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PreferredTimes {
    /// One to 14 weekly windows in local time.
    Windows(Vec<PreferredWindow>),
    /// One line of free text, 1 to 500 characters.
    Text(String),
}

// By hand, so that both forms carry their limits (derived variants cannot).
impl utoipa::PartialSchema for PreferredTimes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaFormat};
        use utoipa::openapi::{Ref, Type};
        let windows = ArrayBuilder::new()
            .items(Ref::from_schema_name("PreferredWindow"))
            .min_items(Some(1))
            .max_items(Some(14))
            .description(Some("One to 14 weekly windows in local time."));
        let text = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(500))
            .format(Some(SchemaFormat::Custom(
                crate::http::rules::TextForm::Name.marker().to_owned(),
            )))
            .description(Some("One line of free text, 1 to 500 characters."))
            .examples([serde_json::json!("weekday mornings before 10")]);
        OneOfBuilder::new()
            .item(windows)
            .item(text)
            .description(Some(
                "When the visitor would like to come: weekly windows, or their own words.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for PreferredTimes {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push(("PreferredWindow".to_owned(), PreferredWindow::schema()));
        <PreferredWindow as utoipa::ToSchema>::schemas(schemas);
    }
}

// By hand, so that errors name `preferred_times[1].end` rather than the variant's position.
impl garde::Validate for PreferredTimes {
    type Context = ();

    fn validate_into(
        &self,
        ctx: &(),
        parent: &mut dyn FnMut() -> garde::Path,
        report: &mut garde::Report,
    ) {
        let problem = match self {
            Self::Windows(windows) => {
                garde::Validate::validate_into(windows, ctx, parent, report);
                (!(1..=14).contains(&windows.len())).then_some("must list 1 to 14 windows")
            }
            Self::Text(text) if text.chars().count() > 500 => {
                Some("must be at most 500 characters")
            }
            Self::Text(text) => {
                if let Err(error) = crate::http::rules::name(text, ctx) {
                    report.append(parent(), error);
                }
                None
            }
        };
        if let Some(message) = problem {
            report.append(parent(), garde::Error::new(message));
        }
    }
}

// Read by hand rather than `untagged`, so a bad window names its field (`preferred_times[1].end`).
impl<'de> Deserialize<'de> for PreferredTimes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = PreferredTimes;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of {weekday, start, end} windows, or text")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(PreferredTimes::Text(text.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut windows = Vec::new();
                while let Some(window) = seq.next_element()? {
                    windows.push(window);
                }
                Ok(PreferredTimes::Windows(windows))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

/// An inquiry as the front desk sees it. Once erased, only kind, status, area and times remain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inquiry {
    pub id: Uuid,
    pub kind: InquiryKind,
    pub status: InquiryStatus,
    #[schema(example = "Jordan Reyes")]
    pub name: Option<String>,
    #[schema(example = "jordan.reyes@example.com")]
    pub email: Option<String>,
    #[schema(example = "+1 303 555 0142")]
    pub phone: Option<String>,
    pub message: Option<String>,
    pub treatment_area_id: Option<Uuid>,
    pub symptom_duration: Option<SymptomDuration>,
    pub preferred_contact: Option<ContactMethod>,
    pub preferred_times: Option<PreferredTimes>,
    /// The page of the website the form was sent from.
    pub source_page: Option<String>,
    pub consented_at: DateTime<Utc>,
    /// A likely duplicate: the first inquiry of a run from the same email or phone, each
    /// within 24 hours of the one before.
    pub duplicate_of: Option<Uuid>,
    /// The API key of the staff member handling it.
    pub assignee_key_id: Option<Uuid>,
    /// Internal notes of the front desk.
    pub notes: Option<String>,
    /// The patient it became, once converted.
    pub patient_id: Option<Uuid>,
    /// The session booked when it was converted.
    pub session_id: Option<Uuid>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the personal fields were erased under the retention period.
    pub erased_at: Option<DateTime<Utc>>,
    /// Increases with every change; the `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Inquiry> for Inquiry {
    fn from(row: model::Inquiry) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            status: row.status,
            name: row.name,
            email: row.email,
            phone: row.phone,
            message: row.message,
            treatment_area_id: row.treatment_area_id,
            symptom_duration: row.symptom_duration,
            preferred_contact: row.preferred_contact,
            preferred_times: row
                .preferred_times
                .and_then(|value| serde_json::from_value(value).ok()),
            source_page: row.source_page,
            consented_at: row.consented_at,
            duplicate_of: row.duplicate_of,
            assignee_key_id: row.assignee_key_id,
            notes: row.notes,
            patient_id: row.patient_id,
            session_id: row.session_id,
            first_contacted_at: row.first_contacted_at,
            closed_at: row.closed_at,
            erased_at: row.erased_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
