-- The event log: one row per change that others react to, written in the change's own
-- transaction. `data` is thin (ids, times, statuses, reason codes), never personal details.
CREATE TABLE domain_events (
    -- Insertion order, for sequencing only (never shown).
    written      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid NOT NULL CONSTRAINT domain_events_id_key UNIQUE,
    -- Commit order: assigned once the writing transaction has committed (see sequence below),
    -- so a reader that polls with the last position it saw never misses an event.
    position     bigint CONSTRAINT domain_events_position_key UNIQUE,
    type         text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    occurred_at  timestamptz NOT NULL,
    subject_type text NOT NULL CHECK (subject_type ~ '^[a-z_]+$'),
    subject_id   uuid NOT NULL,
    patient_id   uuid,
    data         jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object')
);

-- Events not yet given a position: what the sequencer looks for.
CREATE INDEX domain_events_unsequenced ON domain_events (written) WHERE position IS NULL;
CREATE INDEX domain_events_occurred_at ON domain_events (occurred_at);

-- The last position handed out. Its one row is the sequencers' lock: they run one at a time,
-- each seeing what the one before committed, so positions rise with every commit.
CREATE TABLE domain_event_sequence (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_position bigint NOT NULL CHECK (last_position >= 0)
);
INSERT INTO domain_event_sequence (last_position) VALUES (0);

-- Integrators read events, sessions, courses, patients' contact fields, the catalog and
-- availability, and write nothing.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('admin', 'staff', 'provider', 'integration'));

-- A course's session always has its number, and only a course's session has one.
ALTER TABLE sessions ADD CONSTRAINT sessions_course_number_with_course
    CHECK ((course_id IS NULL) = (course_number IS NULL));
