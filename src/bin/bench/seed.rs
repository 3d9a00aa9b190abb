//! A realistic clinic at scale, written by PostgreSQL itself (`generate_series`), so seeding a
//! million sessions takes seconds rather than a million requests.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

/// How big the clinic is: its providers (the demo's two among them) and locations (the demo's
/// one among them).
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub providers: u32,
    pub locations: u32,
}

impl Scale {
    /// One clinic: three locations, twenty providers.
    pub const CLINIC: Scale = Scale {
        providers: 20,
        locations: 3,
    };
    /// A clinic group: ten locations, a hundred providers.
    pub const GROUP: Scale = Scale {
        providers: 100,
        locations: 10,
    };
}

/// The catalog around the demo clinic: more locations in other zones, more providers (spread
/// evenly over the locations, each treating six of the ten areas, Monday to Friday
/// 08:00–18:00), a week of time off each, and `patients` patients.
pub async fn catalog(
    conn: &mut AsyncPgConnection,
    scale: Scale,
    patients: u32,
) -> Result<(), String> {
    let extra = scale.providers - 2;
    let (locations, more_locations) = (scale.locations, scale.locations - 1);
    let sql = format!(
        "INSERT INTO locations (id, name, time_zone)
           SELECT gen_random_uuid(), 'Bench ' || i,
                  (ARRAY['America/New_York', 'America/Los_Angeles', 'America/Chicago',
                         'America/Phoenix'])[1 + (i - 1) % 4]
           FROM generate_series(1, {more_locations}) i;
         WITH l AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM locations),
              p AS (SELECT gen_random_uuid() AS id, i FROM generate_series(0, {extra} - 1) i),
              made AS (INSERT INTO providers (id, name, credentials)
                       SELECT id, 'Dr. Bench ' || i, 'MD' FROM p RETURNING id)
         INSERT INTO provider_locations (provider_id, location_id)
           SELECT p.id, l.id FROM p JOIN l ON l.n = p.i % {locations};
         WITH p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM providers),
              a AS (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM treatment_areas)
         INSERT INTO provider_treatment_areas (provider_id, treatment_area_id)
           SELECT p.id, a.id FROM p JOIN a ON (p.n + a.n) % 10 < 6
           ON CONFLICT DO NOTHING;
         INSERT INTO working_hours (id, provider_id, location_id, weekday, start_time, end_time)
           SELECT gen_random_uuid(), pl.provider_id, pl.location_id, d, time '08:00', time '18:00'
           FROM provider_locations pl CROSS JOIN generate_series(1, 5) d
           WHERE NOT EXISTS (SELECT 1 FROM working_hours w WHERE w.provider_id = pl.provider_id);
         INSERT INTO time_off (id, provider_id, starts_at, ends_at, reason)
           SELECT gen_random_uuid(), id, now() + (20 + n * 3) * interval '1 day',
                  now() + (27 + n * 3) * interval '1 day', 'Conference'
           FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM providers) p;
         INSERT INTO patients (id, given_name, family_name, date_of_birth, email, phone, source)
           SELECT gen_random_uuid(), 'Given' || i, 'Family' || i, date '1940-01-01' + (i % 25000),
                  'patient' || i || '@bench.example', '+1 303 555 ' || lpad((i % 10000)::text, 4, '0'),
                  'staff'
           FROM generate_series(1, {patients}) i;"
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("cannot seed the catalog: {e}"))
}

/// SQL that numbers providers (with their location and zone), areas and patients, for the
/// session generators to join on.
const NUMBERED: &str = "
    p AS (SELECT pr.id, pl.location_id, l.time_zone, row_number() OVER (ORDER BY pr.id) - 1 AS n
          FROM providers pr JOIN provider_locations pl ON pl.provider_id = pr.id
          JOIN locations l ON l.id = pl.location_id),
    a AS (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM treatment_areas),
    pt AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM patients),
    counts AS (SELECT (SELECT count(*) FROM pt) AS patients)";

/// Adds past sessions numbered `from..to` (in the order of the slot grid, going back from
/// yesterday): mostly completed, some cancelled (late ones too) and no-shows. None is active, so
/// none holds a slot.
pub async fn history(
    conn: &mut AsyncPgConnection,
    scale: Scale,
    from: u32,
    to: u32,
) -> Result<(), String> {
    let providers = scale.providers;
    let sql = format!(
        "WITH {NUMBERED}
         INSERT INTO sessions (id, kind, patient_id, provider_id, location_id, treatment_area_id,
                               starts_at, ends_at, held_until, status, cancel_reason, late_cancellation,
                               created_at, updated_at)
         SELECT gen_random_uuid(), s.kind, pt.id, p.id, p.location_id, a.id,
                s.starts_at, s.starts_at + interval '30 minutes', s.starts_at + interval '30 minutes',
                s.status,
                CASE WHEN s.status = 'cancelled' THEN 'patient_request' END,
                CASE WHEN s.status = 'cancelled' THEN i % 3 = 0 END,
                s.starts_at - interval '14 days', s.starts_at
         FROM generate_series({from}, {to} - 1) i
         CROSS JOIN counts
         JOIN p ON p.n = i % {providers}
         JOIN a ON a.n = ((i % 6) - p.n + 20) % 10
         JOIN pt ON pt.n = (i::bigint * 7919) % counts.patients
         CROSS JOIN LATERAL (SELECT
             ((current_date - 1 - (i / {providers} / 20)::int) + time '08:00'
               + ((i / {providers}) % 20) * interval '30 minutes') AT TIME ZONE p.time_zone AS starts_at,
             (ARRAY['assessment', 'injection', 'injection', 'injection', 'follow_up'])[1 + i % 5] AS kind,
             CASE WHEN i % 20 < 16 THEN 'completed' WHEN i % 20 < 18 THEN 'cancelled' ELSE 'no_show' END
               AS status) s;"
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("cannot seed past sessions: {e}"))
}

/// Books four of every ten half-hour slots of the next 90 days' working hours: the calendar that
/// availability and bookings work against, the same at every scale.
pub async fn upcoming(conn: &mut AsyncPgConnection, scale: Scale) -> Result<(), String> {
    let providers = scale.providers;
    let sql = format!(
        "WITH {NUMBERED}
         INSERT INTO sessions (id, kind, patient_id, provider_id, location_id, treatment_area_id,
                               starts_at, ends_at, held_until, status)
         SELECT gen_random_uuid(), 'assessment', pt.id, p.id, p.location_id, a.id,
                s.starts_at, s.starts_at + interval '30 minutes', s.starts_at + interval '30 minutes',
                CASE WHEN g.i % 2 = 0 THEN 'scheduled' ELSE 'confirmed' END
         FROM (SELECT i FROM generate_series(0, 90 * 20 * {providers} - 1) i
               WHERE hashint4(i) % 10 BETWEEN 0 AND 3) g
         CROSS JOIN counts
         JOIN p ON p.n = g.i % {providers}
         JOIN a ON a.n = ((g.i % 6) - p.n + 20) % 10
         JOIN pt ON pt.n = (g.i::bigint * 104729) % counts.patients
         CROSS JOIN LATERAL (SELECT
             ((current_date + 2 + (g.i / {providers} / 20)::int) + time '08:00'
               + ((g.i / {providers}) % 20) * interval '30 minutes') AT TIME ZONE p.time_zone AS starts_at) s
         WHERE extract(isodow FROM current_date + 2 + (g.i / {providers} / 20)::int) <= 5
           AND NOT EXISTS (SELECT 1 FROM time_off t WHERE t.provider_id = p.id
                           AND tstzrange(t.starts_at, t.ends_at) && tstzrange(s.starts_at, s.starts_at + interval '30 minutes'))
         -- A patient drawn twice for one instant (across time zones) keeps the first.
         ON CONFLICT DO NOTHING;"
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("cannot seed upcoming sessions: {e}"))
}

/// Brings the past sessions up to `want` (they are only ever added), then vacuums them.
pub async fn grow_history(
    conn: &mut AsyncPgConnection,
    scale: Scale,
    have: u32,
    want: u32,
) -> Result<(), String> {
    if want > have {
        // A million at a time: each a transaction of its own, the run's progress printed.
        for from in (have..want).step_by(1_000_000) {
            let to = want.min(from.saturating_add(1_000_000));
            history(conn, scale, from, to).await?;
            if want - have > 1_000_000 {
                eprintln!("bench: {to} past sessions written");
            }
        }
        // Vacuumed now, so autovacuum does not wake up in the middle of a measured run.
        conn.batch_execute("VACUUM ANALYZE sessions")
            .await
            .map_err(|e| format!("cannot vacuum: {e}"))?;
    }
    Ok(())
}

/// The rooms-and-devices variant: two procedure rooms and one ultrasound at every location,
/// and the upcoming sessions of one provider in six at each location given a room and the
/// ultrasound, so the ultrasound is about 40 % busy and the rooms 20 % each. Whether sessions
/// need them is [`require_resources`].
pub async fn resources(conn: &mut AsyncPgConnection) -> Result<(), String> {
    let sql = format!(
        "INSERT INTO resources (id, location_id, kind, name, tags)
           SELECT gen_random_uuid(), l.id, r.kind, r.name, r.tags FROM locations l
           CROSS JOIN (VALUES ('room', 'Procedure 1', ARRAY['procedure-room']),
                              ('room', 'Procedure 2', ARRAY['procedure-room']),
                              ('device', 'Ultrasound 1', ARRAY['ultrasound'])) AS r(kind, name, tags);
         WITH {NUMBERED},
              served AS (SELECT s.id, s.location_id, s.starts_at, s.held_until,
                                row_number() OVER (ORDER BY s.starts_at, s.id) AS n
                         FROM sessions s JOIN p ON p.id = s.provider_id
                         WHERE s.status IN ('scheduled', 'confirmed') AND s.starts_at > now()
                           AND p.n % 6 = 0)
         INSERT INTO session_resources (session_id, resource_id, tag, starts_at, ends_at)
           SELECT served.id, r.id, r.tags[1], served.starts_at, served.held_until
           FROM served JOIN resources r ON r.location_id = served.location_id
            AND r.name IN ('Ultrasound 1', CASE WHEN served.n % 2 = 0 THEN 'Procedure 1'
                                                ELSE 'Procedure 2' END)
         ON CONFLICT DO NOTHING;
         ANALYZE resources; ANALYZE session_resources;"
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| format!("cannot seed the rooms and devices: {e}"))
}

/// Makes every area's assessments (the sessions the workloads book and search) need a
/// procedure room and the ultrasound, or nothing.
pub async fn require_resources(conn: &mut AsyncPgConnection, needed: bool) -> Result<(), String> {
    let requirements = match needed {
        true => r#"{"assessment": ["procedure-room", "ultrasound"]}"#,
        false => "{}",
    };
    conn.batch_execute(&format!(
        "UPDATE treatment_areas SET requirements = '{requirements}'"
    ))
    .await
    .map_err(|e| format!("cannot set the requirements: {e}"))
}
