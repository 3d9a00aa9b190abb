//! The workloads, built from what the seeded clinic holds: real ids, and open slots as the
//! availability endpoint reports them.

use std::net::SocketAddr;

use chrono::{Duration, NaiveDate, Utc};
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http;
use crate::load::{Call, Workload};

/// The name of `workload` in the rooms-and-devices comparison, with them `needed` or not.
pub fn variant(workload: &str, needed: bool) -> &'static str {
    match (workload, needed) {
        ("availability", false) => "availability-resources",
        ("availability", true) => "availability+resources",
        (_, false) => "booking-resources",
        (_, true) => "booking+resources",
    }
}

/// Calls per workload: enough that repeats are rare within a run.
const CALLS: usize = 20_000;

#[derive(Debug, Clone, diesel::QueryableByName)]
struct ProviderRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    location_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Array<SqlUuid>)]
    areas: Vec<Uuid>,
}

#[derive(Debug, Clone, diesel::QueryableByName)]
struct SessionRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    provider_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    treatment_area_id: Uuid,
}

#[derive(Debug, Clone, diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(Debug, Clone, diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Text)]
    day: String,
}

/// An open slot for an area.
#[derive(Debug, Clone)]
struct Slot {
    area: Uuid,
    provider: Uuid,
    location: Uuid,
    starts_at: String,
}

/// What the workloads draw from.
pub struct Inputs {
    today: NaiveDate,
    areas: Vec<Uuid>,
    providers: Vec<ProviderRow>,
    patients: Vec<Uuid>,
    upcoming: Vec<SessionRow>,
    sessions: Vec<Uuid>,
    mondays: Vec<String>,
    slots: Vec<Slot>,
}

/// A small deterministic generator, so that two runs draw the same calls.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn failed(what: &str) -> impl FnOnce(diesel::result::Error) -> String + '_ {
    move |e| format!("cannot read {what}: {e}")
}

impl Inputs {
    /// Reads ids from the database and open slots (the booking horizon) from the service.
    pub async fn gather(
        conn: &mut AsyncPgConnection,
        addr: SocketAddr,
        key: &str,
    ) -> Result<Self, String> {
        let providers: Vec<ProviderRow> = diesel::sql_query(
            "SELECT p.id, pl.location_id, array_agg(pta.treatment_area_id) AS areas \
             FROM providers p JOIN provider_locations pl ON pl.provider_id = p.id \
             JOIN provider_treatment_areas pta ON pta.provider_id = p.id \
             GROUP BY p.id, pl.location_id ORDER BY p.id",
        )
        .load(conn)
        .await
        .map_err(failed("providers"))?;
        let ids = |sql: &'static str| diesel::sql_query(sql);
        let areas: Vec<IdRow> = ids("SELECT id FROM treatment_areas ORDER BY slug")
            .load(conn)
            .await
            .map_err(failed("areas"))?;
        let patients: Vec<IdRow> = ids("SELECT id FROM patients ORDER BY id LIMIT 5000")
            .load(conn)
            .await
            .map_err(failed("patients"))?;
        let upcoming: Vec<SessionRow> = diesel::sql_query(
            "SELECT id, provider_id, treatment_area_id FROM sessions \
             WHERE status = 'scheduled' AND starts_at > now() ORDER BY id LIMIT 5000",
        )
        .load(conn)
        .await
        .map_err(failed("upcoming sessions"))?;
        let sessions: Vec<IdRow> =
            ids("SELECT id FROM sessions TABLESAMPLE BERNOULLI (5) LIMIT 10000")
                .load(conn)
                .await
                .map_err(failed("sessions"))?;
        let mondays: Vec<DayRow> = ids(
            "SELECT to_char(d, 'YYYY-MM-DD') AS day FROM generate_series( \
               date_trunc('week', now() - interval '2 years'), now(), interval '1 week') d",
        )
        .load(conn)
        .await
        .map_err(failed("weeks"))?;
        let today = Utc::now().date_naive();
        let mut slots = Vec::new();
        // The whole booking horizon, 60 days a request: enough room that bookings collide
        // now and then rather than fill the calendar within a run.
        let windows = [(3, 62), (63, 122), (123, 178)];
        for (area, (first, last)) in areas
            .iter()
            .flat_map(|area| windows.iter().map(move |window| (area, *window)))
        {
            let path = format!(
                "/v1/availability?treatment_area_id={}&kind=assessment&from={}&to={}",
                area.id,
                today + Duration::days(first),
                today + Duration::days(last)
            );
            let (status, body) = http::call(addr, "GET", &path, key, None)?;
            if status != 200 {
                return Err(format!("availability answered {status}: {body}"));
            }
            for slot in body["slots"].as_array().into_iter().flatten() {
                let id = |field: &str| slot[field].as_str().and_then(|s| Uuid::try_parse(s).ok());
                if let (Some(provider), Some(location), Some(starts_at)) = (
                    id("provider_id"),
                    id("location_id"),
                    slot["starts_at"].as_str(),
                ) {
                    slots.push(Slot {
                        area: area.id,
                        provider,
                        location,
                        starts_at: starts_at.to_owned(),
                    });
                }
            }
        }
        if slots.is_empty() || patients.is_empty() || upcoming.is_empty() {
            return Err(
                "the seeded clinic has no open slots, patients or upcoming sessions".into(),
            );
        }
        Ok(Self {
            today,
            areas: areas.into_iter().map(|a| a.id).collect(),
            providers,
            patients: patients.into_iter().map(|p| p.id).collect(),
            upcoming,
            sessions: sessions.into_iter().map(|s| s.id).collect(),
            mondays: mondays.into_iter().map(|d| d.day).collect(),
            slots,
        })
    }

    fn availability_call(&self, area: Uuid, from: NaiveDate) -> Call {
        Call {
            method: "GET",
            path: format!(
                "/v1/availability?treatment_area_id={area}&kind=assessment&from={from}&to={}",
                from + Duration::days(13)
            ),
            body: None,
        }
    }

    fn booking_call(&self, slot: &Slot, patient: Uuid) -> Call {
        let body = json!({"patient_id": patient, "provider_id": slot.provider, "location_id": slot.location,
                          "treatment_area_id": slot.area, "kind": "assessment", "starts_at": slot.starts_at});
        Call {
            method: "POST",
            path: "/v1/sessions".into(),
            body: Some(body.to_string()),
        }
    }

    /// Availability of one random area over 14 days starting anywhere within the horizon.
    pub fn availability(&self) -> Workload {
        let mut draw = Draw(1);
        let calls = (0..CALLS)
            .map(|_| {
                let from = self.today + Duration::days(1 + draw.below(166) as i64);
                self.availability_call(*draw.pick(&self.areas), from)
            })
            .collect();
        Workload {
            name: "availability",
            calls,
            by_status: false,
        }
    }

    /// The booking page of one location: availability of one random area there over 14 days
    /// (a clinic group's page asks for a location first).
    pub fn availability_location(&self) -> Workload {
        let mut draw = Draw(9);
        let calls = (0..CALLS)
            .map(|_| {
                let provider = draw.pick(&self.providers);
                let from = self.today + Duration::days(1 + draw.below(166) as i64);
                let mut call = self.availability_call(*draw.pick(&provider.areas), from);
                call.path = format!("{}&location_id={}", call.path, provider.location_id);
                call
            })
            .collect();
        Workload {
            name: "availability_location",
            calls,
            by_status: false,
        }
    }

    /// The booking page's month: one random area's days over 31 days from anywhere in the
    /// horizon, each with its open slots counted and its first.
    pub fn days(&self) -> Workload {
        let mut draw = Draw(7);
        let calls = (0..CALLS)
            .map(|_| {
                let from = self.today + Duration::days(1 + draw.below(60) as i64);
                Call {
                    method: "GET",
                    path: format!(
                        "/v1/availability/days?treatment_area_id={}&kind=assessment&from={from}&to={}",
                        draw.pick(&self.areas),
                        from + Duration::days(30)
                    ),
                    body: None,
                }
            })
            .collect();
        Workload {
            name: "days",
            calls,
            by_status: false,
        }
    }

    /// The booking page's first offer: the next five open slots of one random area after a
    /// random day of the horizon.
    pub fn next(&self) -> Workload {
        let mut draw = Draw(8);
        let calls = (0..CALLS)
            .map(|_| {
                let after = self.today + Duration::days(draw.below(60) as i64);
                Call {
                    method: "GET",
                    path: format!(
                        "/v1/availability/next?treatment_area_id={}&kind=assessment&after={after}T00:00:00Z&limit=5",
                        draw.pick(&self.areas)
                    ),
                    body: None,
                }
            })
            .collect();
        Workload {
            name: "next",
            calls,
            by_status: false,
        }
    }

    /// Bookings of random open slots by random patients: some collide (409).
    pub fn booking(&self) -> Workload {
        let mut draw = Draw(2);
        let calls = (0..CALLS)
            .map(|_| self.booking_call(draw.pick(&self.slots), *draw.pick(&self.patients)))
            .collect();
        Workload {
            name: "booking",
            calls,
            by_status: true,
        }
    }

    /// Upcoming sessions moved to another open slot of their provider.
    fn reschedule(&self) -> Workload {
        let mut draw = Draw(3);
        let mut calls = Vec::new();
        for _ in 0..CALLS * 4 {
            if calls.len() == CALLS {
                break;
            }
            let session = draw.pick(&self.upcoming);
            let slot = draw.pick(&self.slots);
            if slot.provider == session.provider_id && slot.area == session.treatment_area_id {
                calls.push(Call {
                    method: "POST",
                    path: format!("/v1/sessions/{}/reschedule", session.id),
                    body: Some(json!({"starts_at": slot.starts_at, "reason": "bench"}).to_string()),
                });
            }
        }
        Workload {
            name: "reschedule",
            calls,
            by_status: true,
        }
    }

    /// A provider's sessions over one week of the past two years.
    fn provider_week(&self) -> Workload {
        let mut draw = Draw(4);
        let calls = (0..CALLS)
            .map(|_| {
                let provider = draw.pick(&self.providers);
                let monday = draw.pick(&self.mondays);
                let from: NaiveDate = monday.parse().unwrap_or(self.today);
                Call {
                    method: "GET",
                    path: format!(
                        "/v1/sessions?provider_id={}&from={from}T00:00:00Z&to={}T00:00:00Z&limit=100",
                        provider.id,
                        from + Duration::days(7)
                    ),
                    body: None,
                }
            })
            .collect();
        Workload {
            name: "provider_week",
            calls,
            by_status: false,
        }
    }

    /// One session by id.
    fn get_session(&self) -> Workload {
        let calls = self
            .sessions
            .iter()
            .map(|id| Call {
                method: "GET",
                path: format!("/v1/sessions/{id}"),
                body: None,
            })
            .collect();
        Workload {
            name: "get_session",
            calls,
            by_status: false,
        }
    }

    /// A six-session course planned for a random patient with a random provider.
    fn plan_course(&self) -> Workload {
        let mut draw = Draw(5);
        let calls = (0..CALLS)
            .map(|_| {
                let provider = draw.pick(&self.providers);
                let body: Value = json!({"patient_id": draw.pick(&self.patients), "provider_id": provider.id,
                    "location_id": provider.location_id, "treatment_area_id": draw.pick(&provider.areas),
                    "sessions": 6, "interval_days": {"min": 21, "target": 28, "max": 42}});
                Call {
                    method: "POST",
                    path: "/v1/courses/plan".into(),
                    body: Some(body.to_string()),
                }
            })
            .collect();
        Workload {
            name: "plan_course",
            calls,
            by_status: false,
        }
    }

    /// Every workload, in the order they run.
    pub fn all(&self) -> Vec<Workload> {
        vec![
            self.availability(),
            self.availability_location(),
            self.days(),
            self.next(),
            self.booking(),
            self.reschedule(),
            self.provider_week(),
            self.get_session(),
            self.plan_course(),
        ]
    }

    /// For each provider, bookings to capture the SQL of: a few slots open now (earlier runs
    /// moved sessions), tried in turn until one is accepted.
    pub fn booking_captures(&self, addr: SocketAddr, key: &str) -> Result<Vec<Vec<Call>>, String> {
        let mut draw = Draw(6);
        let mut captures = Vec::new();
        for provider in &self.providers {
            let area = draw.pick(&provider.areas);
            let path = format!(
                "/v1/availability?treatment_area_id={area}&kind=assessment&provider_id={}&from={}&to={}",
                provider.id,
                self.today + Duration::days(7),
                self.today + Duration::days(20)
            );
            let (status, body) = http::call(addr, "GET", &path, key, None)?;
            if status != 200 {
                return Err(format!("availability answered {status}: {body}"));
            }
            let candidates: Vec<Call> = body["slots"]
                .as_array()
                .into_iter()
                .flatten()
                .step_by(7)
                .take(5)
                .filter_map(|slot| {
                    let slot = Slot {
                        area: *area,
                        provider: provider.id,
                        location: Uuid::try_parse(slot["location_id"].as_str()?).ok()?,
                        starts_at: slot["starts_at"].as_str()?.to_owned(),
                    };
                    Some(self.booking_call(&slot, *draw.pick(&self.patients)))
                })
                .collect();
            if !candidates.is_empty() {
                captures.push(candidates);
            }
        }
        Ok(captures)
    }

    /// For each area, an availability search to capture the SQL of.
    pub fn availability_captures(&self) -> Vec<Vec<Call>> {
        self.areas
            .iter()
            .map(|area| vec![self.availability_call(*area, self.today + Duration::days(7))])
            .collect()
    }
}
