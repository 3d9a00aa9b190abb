//! Wall-clock times, weekdays and time zones as the clinic speaks them.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A day of the week; stored as its ISO number (Monday = 1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// ISO 8601 number, Monday = 1 … Sunday = 7.
    pub fn iso_number(self) -> i16 {
        self as i16 + 1
    }

    /// The weekday of an ISO number, if it is one.
    pub fn from_iso_number(number: i16) -> Option<Self> {
        use Weekday::*;
        [
            Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
        ]
        .get(usize::try_from(number - 1).ok()?)
        .copied()
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Self {
        Self::from_iso_number(day.number_from_monday() as i16).unwrap_or(Weekday::Monday)
    }
}

/// A wall-clock time of day at minute precision, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(NaiveTime);

impl WallTime {
    /// The time as chrono's type.
    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl From<NaiveTime> for WallTime {
    fn from(time: NaiveTime) -> Self {
        Self(time)
    }
}

impl FromStr for WallTime {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "expected a wall-clock time HH:MM between 00:00 and 23:59";
        if text.len() != 5 {
            return Err(EXPECTED);
        }
        NaiveTime::parse_from_str(text, "%H:%M")
            .map(Self)
            .map_err(|_| EXPECTED)
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for WallTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WallTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for WallTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$"))
            .description(Some("Wall-clock time in the location's time zone, HH:MM"))
            .examples([serde_json::json!("09:00")])
            .into()
    }
}

impl ToSchema for WallTime {}

/// Local times of day that suit a patient, in the location's zone: a session starts at
/// `start` or later and ends by `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub start: WallTime,
    pub end: WallTime,
}

/// Parses an IANA time-zone name such as `America/Denver`.
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, &'static str> {
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| "not a known IANA time zone name (e.g. America/Denver)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_reads_and_writes_hh_mm() {
        let time: WallTime = "09:30".parse().unwrap();
        assert_eq!(time.to_string(), "09:30");
        for bad in ["9:30", "24:00", "09:60", "09:30:00", "", "ab:cd"] {
            assert!(bad.parse::<WallTime>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn weekdays_round_trip_through_iso_numbers() {
        for n in 1..=7 {
            assert_eq!(Weekday::from_iso_number(n).unwrap().iso_number(), n);
        }
        assert_eq!(Weekday::from_iso_number(0), None);
        assert_eq!(Weekday::from_iso_number(8), None);
        assert_eq!(Weekday::from(chrono::Weekday::Sun), Weekday::Sunday);
    }

    #[test]
    fn time_zones_must_be_iana_names() {
        assert!(parse_time_zone("America/Denver").is_ok());
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert!(parse_time_zone("").is_err());
    }
}
