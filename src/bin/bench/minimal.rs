//! The yardstick: the least SQL that does a request's job with the same checks, replayed by
//! pgbench beside the service's own SQL (`api / minimal`).
//!
//! - A booking is one call of `bench_minimal_book`, a PL/pgSQL function installed for the run:
//!   eligibility and active records, notice and horizon, working hours in the location's zone,
//!   time off, expired holds on the span released, the session inserted (the exclusion
//!   constraints and the `calendar_claims` trigger as for the service), its history entry, its
//!   `session.booked` event and its audit event, an exclusion violation mapped to
//!   `slot-taken`. As in the replay of the service's SQL, the rules see the captured time and
//!   the row is written a whole number of years later, so that replays never collide.
//! - An availability search is one statement returning, as JSON, everything the slot loop
//!   reads: the area, the settings, the eligible providers at their locations with their zones,
//!   their working hours, and everything that blocks them in the window.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use crate::load::Call;

/// Installs the booking function (again is harmless).
pub const BOOK_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION bench_minimal_book(
    p_id uuid, p_patient uuid, p_provider uuid, p_location uuid, p_area uuid, p_kind text,
    p_start timestamptz, p_now timestamptz, p_shift interval) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    f record;
    v_end timestamptz;
    v_local timestamp;
    v_at timestamptz := p_start + p_shift;
    v_minutes integer;
BEGIN
    SELECT l.time_zone AS zone, s.minimum_notice_minutes AS notice,
           s.booking_horizon_days AS horizon,
           CASE p_kind WHEN 'assessment' THEN a.assessment_minutes
                       WHEN 'injection' THEN a.injection_minutes
                       ELSE a.follow_up_minutes END AS minutes,
           CASE WHEN p_kind = 'injection' THEN s.buffer_after_injection_minutes ELSE 0 END AS buffer
      INTO f
      FROM clinic_settings s
      JOIN locations l ON l.id = p_location AND l.archived_at IS NULL
      JOIN treatment_areas a ON a.id = p_area AND a.archived_at IS NULL
      JOIN patients pa ON pa.id = p_patient AND pa.archived_at IS NULL
      JOIN providers v ON v.id = p_provider AND v.archived_at IS NULL
     WHERE EXISTS (SELECT 1 FROM provider_treatment_areas t
                   WHERE t.provider_id = p_provider AND t.treatment_area_id = p_area)
       AND EXISTS (SELECT 1 FROM provider_locations w
                   WHERE w.provider_id = p_provider AND w.location_id = p_location);
    IF NOT FOUND THEN
        RETURN 'provider-not-eligible';
    END IF;
    v_end := p_start + make_interval(mins => f.minutes);
    IF p_start < p_now + make_interval(mins => f.notice)
       OR p_start > p_now + make_interval(days => f.horizon) THEN
        RETURN 'outside-the-horizon';
    END IF;
    v_local := p_start AT TIME ZONE f.zone;
    IF NOT EXISTS (
        SELECT 1 FROM working_hours h
         WHERE h.provider_id = p_provider AND h.location_id = p_location
           AND h.weekday = extract(isodow FROM v_local)
           AND (h.effective_from IS NULL OR h.effective_from <= v_local::date)
           AND (h.effective_until IS NULL OR h.effective_until >= v_local::date)
           AND v_local::date + h.start_time <= v_local
           AND (v_end AT TIME ZONE f.zone) <= v_local::date + h.end_time) THEN
        RETURN 'outside-working-hours';
    END IF;
    IF EXISTS (SELECT 1 FROM time_off o WHERE o.provider_id = p_provider
                  AND o.starts_at < v_end AND o.ends_at > p_start) THEN
        RETURN 'provider-on-time-off';
    END IF;
    v_minutes := f.minutes;
    UPDATE holds SET released_at = p_now
     WHERE provider_id = p_provider AND released_at IS NULL AND expires_at <= p_now
       AND tstzrange(starts_at, held_until)
           && tstzrange(v_at, v_at + make_interval(mins => v_minutes + f.buffer));
    INSERT INTO sessions (id, kind, patient_id, provider_id, location_id, treatment_area_id,
                          starts_at, ends_at, held_until)
    VALUES (p_id, p_kind, p_patient, p_provider, p_location, p_area, v_at,
            v_at + make_interval(mins => v_minutes),
            v_at + make_interval(mins => v_minutes + f.buffer));
    INSERT INTO session_events (id, session_id, occurred_at, action, to_status, new_starts_at)
    VALUES (gen_random_uuid(), p_id, p_now, 'booked', 'scheduled', v_at);
    INSERT INTO domain_events (id, type, occurred_at, subject_type, subject_id, patient_id, data)
    VALUES (gen_random_uuid(), 'session.booked', p_now, 'session', p_id, p_patient,
            jsonb_build_object('kind', p_kind, 'status', 'scheduled',
                               'provider_id', p_provider, 'location_id', p_location,
                               'treatment_area_id', p_area, 'starts_at', v_at,
                               'ends_at', v_at + make_interval(mins => v_minutes)));
    INSERT INTO audit_events (id, occurred_at, action, resource_type, resource_id, patient_id,
                              outcome, status)
    VALUES (gen_random_uuid(), p_now, 'session.book', 'sessions', p_id, p_patient,
            'success', 201);
    RETURN 'booked';
EXCEPTION WHEN exclusion_violation THEN
    RETURN 'slot-taken';
END
$fn$;
"#;

/// The pgbench script booking what `call` booked, with the rules checked at its time and the
/// row written `:shift` seconds later (the same `\set` line as the own-SQL replay's).
pub fn booking_script(call: &Call, shift: &str) -> Result<String, String> {
    let body: Value = call
        .body
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| format!("bad booking body: {e}"))?
        .ok_or("a booking has a body")?;
    let field = |name: &str| {
        body[name]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("the booking has no {name}"))
    };
    let start = DateTime::parse_from_rfc3339(&field("starts_at")?)
        .map_err(|e| format!("bad starts_at: {e}"))?;
    let mut script = format!("{shift}\n\\set id random(1, 9223372036854775806)\n");
    let _ = writeln!(
        script,
        "SELECT bench_minimal_book((lpad(to_hex((:id)::bigint), 32, '0'))::uuid, '{}', '{}', \
         '{}', '{}', '{}', to_timestamp({}), now(), make_interval(secs => (:shift)::bigint));",
        field("patient_id")?,
        field("provider_id")?,
        field("location_id")?,
        field("treatment_area_id")?,
        field("kind")?,
        start.timestamp()
    );
    Ok(script)
}

/// The pgbench script reading, in one statement, what an availability `call` reads, its
/// window moved by the same `:shift` as the own-SQL replay's.
pub fn availability_script(call: &Call, shift: &str) -> Result<String, String> {
    let query = call.path.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .ok_or(format!("the search has no {name}"))
    };
    let date = |name: &str| -> Result<i64, String> {
        let day = NaiveDate::parse_from_str(&param(name)?, "%Y-%m-%d")
            .map_err(|e| format!("bad {name}: {e}"))?;
        Ok(day
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp())
    };
    // The service's window: a day before `from` to two after `to`, wide enough for any zone.
    let (start, end) = (date("from")? - 86_400, date("to")? + 2 * 86_400);
    let area = param("treatment_area_id")?;
    let kind = param("kind")?;
    let window = format!(
        "tstzrange(to_timestamp({start} + (:shift)::bigint), to_timestamp({end} + (:shift)::bigint))"
    );
    Ok(format!(
        "{shift}\n\
         WITH area AS (SELECT * FROM treatment_areas WHERE id = '{area}'), \
         pairs AS (SELECT pl.provider_id, pl.location_id, l.time_zone FROM provider_locations pl \
                   JOIN providers p ON p.id = pl.provider_id AND p.archived_at IS NULL \
                   JOIN locations l ON l.id = pl.location_id AND l.archived_at IS NULL \
                   WHERE pl.provider_id IN (SELECT provider_id FROM provider_treatment_areas \
                                            WHERE treatment_area_id = '{area}')) \
         SELECT (SELECT row_to_json(a) FROM area a) AS area, \
                (SELECT row_to_json(s) FROM clinic_settings s) AS settings, '{kind}' AS kind, \
                (SELECT json_agg(p) FROM pairs p) AS pairs, \
                (SELECT json_agg(json_build_array(h.provider_id, h.location_id, h.weekday, \
                                                  h.start_time, h.end_time, h.effective_from, \
                                                  h.effective_until)) \
                   FROM working_hours h WHERE h.provider_id IN (SELECT provider_id FROM pairs)) \
                  AS hours, \
                (SELECT json_agg(json_build_array(b.provider_id, b.starts_at, b.ends_at)) FROM ( \
                   SELECT provider_id, starts_at, held_until AS ends_at FROM sessions \
                   WHERE provider_id IN (SELECT provider_id FROM pairs) \
                     AND status IN ('scheduled', 'confirmed', 'checked_in') \
                     AND tstzrange(starts_at, held_until) && {window} \
                   UNION ALL \
                   SELECT provider_id, starts_at, held_until FROM holds \
                   WHERE provider_id IN (SELECT provider_id FROM pairs) AND released_at IS NULL \
                     AND expires_at > now() AND tstzrange(starts_at, held_until) && {window} \
                   UNION ALL \
                   SELECT provider_id, starts_at, ends_at FROM time_off \
                   WHERE provider_id IN (SELECT provider_id FROM pairs) \
                     AND tstzrange(starts_at, ends_at) && {window}) b) AS busy;\n"
    ))
}
