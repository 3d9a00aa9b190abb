-- Patients and their sessions. Overlaps are refused by the database itself, so no race,
-- retry or replica can put two patients in one provider's chair or one patient in two chairs.
CREATE TABLE patients (
    id                uuid PRIMARY KEY,
    given_name        text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name       text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    date_of_birth     date NOT NULL,
    email             text CHECK (length(email) <= 254),
    phone             text CHECK (length(phone) <= 32),
    preferred_contact text CHECK (preferred_contact IN ('email', 'phone', 'sms')),
    notes             text CHECK (length(notes) <= 10000),
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    archived_at       timestamptz
);
-- One record per person: the same email and date of birth is the same patient.
CREATE UNIQUE INDEX patients_email_dob_key ON patients (lower(email), date_of_birth) WHERE email IS NOT NULL;
CREATE INDEX patients_family_name_idx ON patients (lower(family_name));

CREATE TABLE sessions (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('assessment', 'injection', 'follow_up')),
    patient_id        uuid NOT NULL REFERENCES patients (id),
    provider_id       uuid NOT NULL REFERENCES providers (id),
    location_id       uuid NOT NULL REFERENCES locations (id),
    treatment_area_id uuid NOT NULL REFERENCES treatment_areas (id),
    course_id         uuid,
    course_number     integer CHECK (course_number >= 1),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    -- The end plus the buffer kept free after injections: the provider is held until then.
    held_until        timestamptz NOT NULL,
    status            text NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show')),
    cancel_reason     text CHECK (cancel_reason IN ('patient_request', 'feeling_better', 'condition_worse',
                                                    'illness', 'provider_unavailable', 'clinic_closure', 'other')),
    cancel_note       text CHECK (length(cancel_note) <= 2000),
    late_cancellation boolean,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sessions_time_order CHECK (ends_at > starts_at AND held_until >= ends_at),
    CONSTRAINT sessions_not_empty CHECK (NOT isempty(tstzrange(starts_at, held_until))),
    CONSTRAINT sessions_cancel_reason CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL)),
    CONSTRAINT sessions_provider_overlap EXCLUDE USING gist (
        provider_id WITH =, tstzrange(starts_at, held_until) WITH &&
    ) WHERE (status IN ('scheduled', 'confirmed', 'checked_in')),
    CONSTRAINT sessions_patient_overlap EXCLUDE USING gist (
        patient_id WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status IN ('scheduled', 'confirmed', 'checked_in'))
);
CREATE INDEX sessions_starts_idx ON sessions (starts_at, id);
CREATE INDEX sessions_patient_idx ON sessions (patient_id, starts_at);
CREATE INDEX sessions_course_idx ON sessions (course_id, course_number) WHERE course_id IS NOT NULL;

-- Every change of a session: kept, never rewritten.
CREATE TABLE session_events (
    id            uuid PRIMARY KEY,
    session_id    uuid NOT NULL REFERENCES sessions (id),
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    key_id        uuid REFERENCES api_keys (id),
    action        text NOT NULL CHECK (action IN ('booked', 'rescheduled', 'confirmed', 'checked_in',
                                                  'completed', 'cancelled', 'no_show')),
    from_status   text,
    to_status     text NOT NULL,
    old_starts_at timestamptz,
    new_starts_at timestamptz,
    reason        text CHECK (length(reason) <= 2000)
);
CREATE INDEX session_events_session_idx ON session_events (session_id, id);

-- What happened in a completed session. Personal health information.
CREATE TABLE clinical_records (
    session_id     uuid PRIMARY KEY REFERENCES sessions (id),
    pain_before    smallint NOT NULL CHECK (pain_before BETWEEN 0 AND 10),
    pain_after     smallint NOT NULL CHECK (pain_after BETWEEN 0 AND 10),
    function_score smallint CHECK (function_score BETWEEN 0 AND 100),
    injectate      text CHECK (length(injectate) <= 200),
    volume_ml      double precision CHECK (volume_ml > 0 AND volume_ml <= 100),
    sites          text[] NOT NULL DEFAULT '{}',
    adverse_events jsonb NOT NULL DEFAULT '[]',
    note           text CHECK (length(note) <= 10000),
    recorded_by    uuid REFERENCES api_keys (id),
    recorded_at    timestamptz NOT NULL DEFAULT now()
);

-- Replays of booking requests: the key row commits with the booking it answered.
CREATE TABLE idempotency_keys (
    api_key_id   uuid NOT NULL REFERENCES api_keys (id),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    operation    text NOT NULL,
    request_hash bytea NOT NULL,
    status       smallint NOT NULL,
    response     jsonb NOT NULL,
    location     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
