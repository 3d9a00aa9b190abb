//! The clinical record of a completed session: personal health information, kept with the
//! session and never put in an event, a log line or a URL.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A risk of the injections, observed after a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdverseEventKind {
    InjectionSitePain,
    Swelling,
    Infection,
    AllergicReaction,
    Other,
}

/// How bad an adverse event was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
}

/// An adverse event and its severity.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdverseEvent {
    pub kind: AdverseEventKind,
    pub severity: Severity,
}

/// The clinical record of a completed session: personal health information.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "pain_before": 6, "pain_after": 3, "function_score": 55, "injectate": "dextrose 15%",
    "volume_ml": 12.5, "sites": ["medial collateral ligament", "pes anserine"],
    "adverse_events": [{"kind": "injection_site_pain", "severity": "mild"}], "note": "Tolerated well."
}))]
pub struct ClinicalRecord {
    /// Numeric rating scale 0–10 before the injections.
    #[garde(range(min = 0, max = 10))]
    #[schema(minimum = 0, maximum = 10)]
    pub pain_before: i16,
    /// Numeric rating scale 0–10 after.
    #[garde(range(min = 0, max = 10))]
    #[schema(minimum = 0, maximum = 10)]
    pub pain_after: i16,
    /// Function score 0–100.
    #[garde(inner(range(min = 0, max = 100)))]
    #[schema(minimum = 0, maximum = 100)]
    pub function_score: Option<i16>,
    #[garde(inner(length(chars, min = 1, max = 200)))]
    #[schema(min_length = 1, max_length = 200)]
    pub injectate: Option<String>,
    /// Total volume injected, ml.
    #[garde(inner(range(min = 0.1, max = 100.0)))]
    #[schema(minimum = 0.1, maximum = 100.0)]
    pub volume_ml: Option<f64>,
    #[serde(default)]
    #[garde(length(max = 50), inner(length(chars, min = 1, max = 200)))]
    #[schema(schema_with = sites_schema)]
    pub sites: Vec<String>,
    #[serde(default)]
    #[garde(length(max = 20))]
    #[schema(max_items = 20)]
    pub adverse_events: Vec<AdverseEvent>,
    #[garde(inner(length(chars, max = 10000)))]
    #[schema(max_length = 10000)]
    pub note: Option<String>,
}

/// Up to 50 injection sites of 1 to 200 characters (item constraints cannot be put inline).
fn sites_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200)),
        )
        .max_items(Some(50))
        .build()
}
