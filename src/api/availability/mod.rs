//! `GET /v1/availability`: open slots, computed from the pattern and what is taken, fetched in a
//! fixed number of queries whatever the range; `calendar`: the month calendar of a booking
//! page and the next open slots. Answers are gzipped for clients that accept it.

pub mod calendar;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::availability::{self, SlotQuery};
use crate::domain::sessions::SessionKind;
use crate::error::AppError;
use crate::http::auth::Public;
use crate::http::extract::Query;
use crate::http::problems::{BadRequest, PublicErrors, ServerErrors};
use crate::http::state::AppState;

/// What slots to find.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    #[garde(skip)]
    pub treatment_area_id: Uuid,
    #[garde(skip)]
    pub kind: SessionKind,
    /// First local date, `YYYY-MM-DD` (inclusive).
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[garde(skip)]
    #[param(value_type = String, format = Date, example = "2027-03-15")]
    pub from: NaiveDate,
    /// Last local date, `YYYY-MM-DD` (inclusive); at most 62 days after `from`.
    #[serde(deserialize_with = "crate::http::rules::date")]
    #[garde(skip)]
    #[param(value_type = String, format = Date, example = "2027-03-28")]
    pub to: NaiveDate,
    #[garde(skip)]
    pub provider_id: Option<Uuid>,
    #[garde(skip)]
    pub location_id: Option<Uuid>,
}

/// An open slot.
#[derive(Debug, ToSchema)]
pub struct Slot {
    pub provider_id: Uuid,
    pub location_id: Uuid,
    /// In the location's time zone, with its offset.
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:00:00-06:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime, example = "2027-03-15T09:30:00-06:00")]
    pub ends_at: DateTime<FixedOffset>,
}

impl Slot {
    /// The slot in its location's zone.
    pub fn of(slot: crate::domain::slots::Slot) -> Self {
        Self {
            provider_id: slot.provider_id,
            location_id: slot.location_id,
            starts_at: slot.starts_at.with_timezone(&slot.offsets.0),
            ends_at: slot.ends_at.with_timezone(&slot.offsets.1),
        }
    }
}

/// Open slots, by start. A slot names its provider by id: the providers' names are one call
/// away, in the public `GET /v1/providers`.
#[derive(Debug, ToSchema)]
pub struct Availability {
    pub slots: Vec<Slot>,
}

impl Availability {
    /// The JSON body, written by hand: a 14-day answer holds thousands of slots, and serde's
    /// `Display`-based ids and instants, escaped a character at a time, were most of the
    /// request's CPU. Ids and instants need no escaping.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.slots.len() * 190);
        out.extend_from_slice(b"{\"slots\":[");
        for (n, slot) in self.slots.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let mut id = [0u8; uuid::fmt::Hyphenated::LENGTH];
            out.extend_from_slice(b"{\"provider_id\":\"");
            out.extend_from_slice(
                slot.provider_id
                    .hyphenated()
                    .encode_lower(&mut id)
                    .as_bytes(),
            );
            out.extend_from_slice(b"\",\"location_id\":\"");
            out.extend_from_slice(
                slot.location_id
                    .hyphenated()
                    .encode_lower(&mut id)
                    .as_bytes(),
            );
            out.extend_from_slice(b"\",\"starts_at\":");
            write_instant(&mut out, slot.starts_at);
            out.extend_from_slice(b",\"ends_at\":");
            write_instant(&mut out, slot.ends_at);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    }
}

/// Writes an instant as chrono's serde writes it (`"2027-03-15T09:00:00-06:00"`, `Z` for UTC),
/// without `fmt` in the common case: whole seconds, a whole-minute offset, a four-digit year.
fn write_instant(out: &mut Vec<u8>, instant: DateTime<FixedOffset>) {
    use chrono::{Datelike, Timelike};
    let local = instant.naive_local();
    let offset = instant.offset().local_minus_utc();
    let plain = local.nanosecond() == 0 && offset % 60 == 0 && (0..=9999).contains(&local.year());
    if !plain {
        out.extend_from_slice(
            serde_json::to_string(&instant)
                .unwrap_or_default()
                .as_bytes(),
        );
        return;
    }
    let mut text = *b"\"0000-00-00T00:00:00+00:00\"";
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut value = value;
        for i in (at..at + digits).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(1, local.year() as u32, 4);
    put(6, local.month(), 2);
    put(9, local.day(), 2);
    put(12, local.hour(), 2);
    put(15, local.minute(), 2);
    put(18, local.second(), 2);
    let minutes = offset.unsigned_abs() / 60;
    put(21, minutes / 60, 2);
    put(24, minutes % 60, 2);
    match offset {
        0 => {
            text[20] = b'Z';
            text[21] = b'"';
            out.extend_from_slice(&text[..22]);
        }
        ..0 => {
            text[20] = b'-';
            out.extend_from_slice(&text);
        }
        _ => out.extend_from_slice(&text),
    }
}

/// Find open slots
///
/// For a treatment area and session kind over local dates (at most 62 days), optionally for one
/// provider and/or location. A slot is offered when the provider treats the area and works at the
/// location at that local wall time (DST-correct), is not on time off, has no active session
/// overlapping it (buffers included), and the start respects the minimum notice and the booking
/// horizon, and no one booking online holds it. Starts are `slot_step_minutes` apart from the
/// start of each working interval. The providers' names are in the public `GET /v1/providers`.
#[utoipa::path(
    tag = "sessions",
    params(AvailabilityQuery),
    responses(
        (status = 200, description = "Open slots, by start", body = Availability),
        (status = 400, response = BadRequest),
        (status = 422, response = crate::http::problems::InactiveRecord),
        PublicErrors, ServerErrors,
    )
)]
#[get("/availability", wrap = "actix_web::middleware::Compress::default()")]
pub async fn find_availability(
    caller: Public,
    state: web::Data<AppState>,
    Query(query): Query<AvailabilityQuery>,
) -> Result<HttpResponse, AppError> {
    let query = SlotQuery {
        treatment_area_id: query.treatment_area_id,
        kind: query.kind,
        from: query.from,
        to: query.to,
        provider_id: query.provider_id,
        location_id: query.location_id,
    };
    let mut conn = state.read_conn(caller.freshness()).await?;
    let calendars = availability::calendars(&mut conn, &query, state.now()).await?;
    // The connection goes back to the pool before the slots are computed.
    drop(conn);
    let slots = calendars.slots().into_iter().map(Slot::of).collect();
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(Availability { slots }.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn the_body_is_what_serde_would_write() {
        let zones: [chrono_tz::Tz; 4] = [
            chrono_tz::America::Denver,
            chrono_tz::Asia::Kolkata,
            chrono_tz::UTC,
            chrono_tz::Pacific::Chatham,
        ];
        let instants = [
            "2027-03-14T08:59:00Z",
            "2027-03-14T09:00:00Z",
            "2027-11-07T07:30:00Z",
            "0999-01-01T00:00:00Z",
            "2027-01-05T16:00:00.250Z",
        ];
        let mut slots = Vec::new();
        let mut expected = Vec::new();
        for zone in zones {
            for instant in instants {
                let at = instant.parse::<DateTime<chrono::Utc>>().unwrap();
                let (start, end) = (
                    at.with_timezone(&zone).fixed_offset(),
                    (at + Duration::minutes(45))
                        .with_timezone(&zone)
                        .fixed_offset(),
                );
                let (provider_id, location_id) = (Uuid::now_v7(), Uuid::new_v4());
                expected.push(
                    serde_json::json!({"provider_id": provider_id, "location_id": location_id,
                                                 "starts_at": start, "ends_at": end}),
                );
                slots.push(Slot {
                    provider_id,
                    location_id,
                    starts_at: start,
                    ends_at: end,
                });
            }
        }
        let written: serde_json::Value =
            serde_json::from_slice(&Availability { slots }.to_json()).unwrap();
        assert_eq!(written, serde_json::json!({"slots": expected}));
        let empty = Availability { slots: vec![] }.to_json();
        assert_eq!(empty, b"{\"slots\":[]}");
    }
}
