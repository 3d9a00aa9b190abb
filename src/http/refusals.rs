//! Requests refused for want of a valid key (401), counted per client and minute: a scanner
//! hammering the API leaves one audit event per client and minute, with the count, rather
//! than a row per request. Counts are held in this process's memory until their minute is
//! over, then written; a replica that is killed loses at most its current minute's counts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Clients tracked within one minute; past that, further clients share one row, so that
/// memory and the trail stay bounded however many addresses a flood comes from.
const MAX_CLIENTS_PER_MINUTE: usize = 10_000;

/// The client that stands for every client over [`MAX_CLIENTS_PER_MINUTE`].
pub const OVERFLOW_CLIENT: &str = "other";

/// One client's refusals in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub minute: DateTime<Utc>,
    pub client: String,
    pub count: u32,
}

/// The counts of the current (and any unwritten earlier) minutes, by minute and client.
#[derive(Debug, Default)]
pub struct RefusalTally {
    minutes: Mutex<BTreeMap<DateTime<Utc>, HashMap<String, u32>>>,
}

impl RefusalTally {
    /// Counts one refusal of `client` at `now`.
    pub fn count(&self, client: &str, now: DateTime<Utc>) {
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        let clients = minutes.entry(minute_of(now)).or_default();
        let client = match clients.contains_key(client) || clients.len() < MAX_CLIENTS_PER_MINUTE {
            true => client,
            false => OVERFLOW_CLIENT,
        };
        *clients.entry(client.to_owned()).or_insert(0) += 1;
    }

    /// Takes the tallies of minutes that are over by `now` (all of them with `everything`, at
    /// shutdown), oldest first.
    pub fn take_finished(&self, now: DateTime<Utc>, everything: bool) -> Vec<Tally> {
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        let taken = match everything {
            true => std::mem::take(&mut *minutes),
            false => {
                let current = minutes.split_off(&minute_of(now));
                std::mem::replace(&mut *minutes, current)
            }
        };
        drop(minutes);
        let mut tallies = Vec::new();
        for (minute, clients) in taken {
            let mut clients: Vec<(String, u32)> = clients.into_iter().collect();
            clients.sort();
            tallies.extend(clients.into_iter().map(|(client, count)| Tally {
                minute,
                client,
                count,
            }));
        }
        tallies
    }

    /// Puts tallies back that could not be written, to be tried with the next ones.
    pub fn restore(&self, tallies: Vec<Tally>) {
        let mut minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        for tally in tallies {
            *minutes
                .entry(tally.minute)
                .or_default()
                .entry(tally.client)
                .or_insert(0) += tally.count;
        }
    }

    /// Whether any minute before `now`'s is waiting to be written.
    pub fn has_finished(&self, now: DateTime<Utc>) -> bool {
        let minutes = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        minutes
            .first_key_value()
            .is_some_and(|(minute, _)| *minute < minute_of(now))
    }
}

fn minute_of(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now)
}

/// Writes the tallies of finished minutes (all of them with `everything`) to the audit trail,
/// one event each; what cannot be written now is kept for the next try.
pub async fn flush(
    tally: &RefusalTally,
    pool: &crate::db::DbPool,
    now: DateTime<Utc>,
    everything: bool,
) {
    use crate::models::audit_events::{self, NewAuditEvent};
    let tallies = tally.take_finished(now, everything);
    if tallies.is_empty() {
        return;
    }
    let Ok(mut conn) = pool.get().await else {
        tally.restore(tallies);
        return;
    };
    let mut unwritten = Vec::new();
    for minute in tallies {
        let event = NewAuditEvent {
            id: uuid::Uuid::now_v7(),
            key_id: None,
            role: None,
            action: "auth.refused".to_owned(),
            resource_type: "api".to_owned(),
            resource_id: None,
            patient_id: None,
            request_id: None,
            outcome: "denied".to_owned(),
            status: 401,
        };
        let count = i32::try_from(minute.count).unwrap_or(i32::MAX);
        let written =
            audit_events::append_tally(&mut conn, event, minute.minute, &minute.client, count)
                .await;
        if let Err(error) = written {
            tracing::warn!(%error, "could not write a tally of refusals; kept for the next try");
            unwritten.push(minute);
        }
    }
    tally.restore(unwritten);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn refusals_are_counted_per_client_and_minute_and_taken_once_the_minute_is_over() {
        let tally = RefusalTally::default();
        for _ in 0..30 {
            tally.count("203.0.113.9", at("2027-01-04T15:00:10Z"));
        }
        tally.count("198.51.100.1", at("2027-01-04T15:00:59Z"));
        assert!(
            tally
                .take_finished(at("2027-01-04T15:00:59Z"), false)
                .is_empty()
        );
        assert!(!tally.has_finished(at("2027-01-04T15:00:59Z")));
        tally.count("203.0.113.9", at("2027-01-04T15:01:00Z"));
        assert!(tally.has_finished(at("2027-01-04T15:01:00Z")));
        let taken = tally.take_finished(at("2027-01-04T15:01:00Z"), false);
        assert_eq!(
            taken,
            [
                Tally {
                    minute: at("2027-01-04T15:00:00Z"),
                    client: "198.51.100.1".into(),
                    count: 1
                },
                Tally {
                    minute: at("2027-01-04T15:00:00Z"),
                    client: "203.0.113.9".into(),
                    count: 30
                },
            ]
        );
        let rest = tally.take_finished(at("2027-01-04T15:01:00Z"), true);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].count, 1);
    }

    #[test]
    fn a_flood_from_many_addresses_stays_bounded() {
        let tally = RefusalTally::default();
        let now = at("2027-01-04T15:00:00Z");
        for n in 0..(MAX_CLIENTS_PER_MINUTE + 500) {
            tally.count(&format!("10.0.{}.{}", n / 256, n % 256), now);
        }
        let taken = tally.take_finished(now, true);
        assert_eq!(taken.len(), MAX_CLIENTS_PER_MINUTE + 1);
        let overflow = taken.iter().find(|t| t.client == OVERFLOW_CLIENT).unwrap();
        assert_eq!(overflow.count, 500);
    }

    #[test]
    fn tallies_that_could_not_be_written_come_back() {
        let tally = RefusalTally::default();
        tally.count("a", at("2027-01-04T15:00:00Z"));
        let taken = tally.take_finished(at("2027-01-04T15:02:00Z"), false);
        tally.restore(taken);
        tally.count("a", at("2027-01-04T15:00:30Z"));
        let again = tally.take_finished(at("2027-01-04T15:02:00Z"), false);
        assert_eq!(again[0].count, 2);
    }
}
