-- The clinic's catalog: where it works, what it treats, who treats it and when.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE locations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address     text CHECK (length(address) <= 500),
    time_zone   text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);

CREATE TABLE treatment_areas (
    id                   uuid PRIMARY KEY,
    slug                 text NOT NULL CONSTRAINT treatment_areas_slug_key UNIQUE
                         CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description          text,
    assessment_minutes   integer NOT NULL CHECK (assessment_minutes BETWEEN 5 AND 480),
    injection_minutes    integer NOT NULL CHECK (injection_minutes BETWEEN 5 AND 480),
    follow_up_minutes    integer NOT NULL CHECK (follow_up_minutes BETWEEN 5 AND 480),
    sessions_min         integer NOT NULL CHECK (sessions_min >= 1),
    sessions_max         integer NOT NULL CHECK (sessions_max <= 50),
    interval_min_days    integer NOT NULL CHECK (interval_min_days >= 1),
    interval_target_days integer,
    interval_max_days    integer NOT NULL CHECK (interval_max_days <= 365),
    pre_care             text,
    post_care            text,
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    archived_at          timestamptz,
    CONSTRAINT treatment_areas_sessions_order CHECK (sessions_min <= sessions_max),
    CONSTRAINT treatment_areas_interval_order CHECK (
        interval_min_days <= interval_max_days
        AND (interval_target_days IS NULL
             OR interval_target_days BETWEEN interval_min_days AND interval_max_days))
);

CREATE TABLE providers (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    credentials text CHECK (length(credentials) <= 100),
    bio         text,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);

CREATE TABLE provider_treatment_areas (
    provider_id       uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    treatment_area_id uuid NOT NULL REFERENCES treatment_areas (id),
    PRIMARY KEY (provider_id, treatment_area_id)
);
CREATE INDEX provider_treatment_areas_area_idx ON provider_treatment_areas (treatment_area_id);

CREATE TABLE provider_locations (
    provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    location_id uuid NOT NULL REFERENCES locations (id),
    PRIMARY KEY (provider_id, location_id)
);
CREATE INDEX provider_locations_location_idx ON provider_locations (location_id);

-- Weekly pattern in the location's wall-clock time; weekday is ISO (1 = Monday).
CREATE TABLE working_hours (
    id              uuid PRIMARY KEY,
    provider_id     uuid NOT NULL,
    location_id     uuid NOT NULL,
    weekday         smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_time      time NOT NULL,
    end_time        time NOT NULL,
    effective_from  date,
    effective_until date,
    -- Hours only at a location the provider serves: removing the location needs the hours gone first.
    CONSTRAINT working_hours_provider_location_fkey FOREIGN KEY (provider_id, location_id)
        REFERENCES provider_locations (provider_id, location_id),
    CONSTRAINT working_hours_time_order CHECK (end_time > start_time),
    CONSTRAINT working_hours_effective_order CHECK (effective_until >= effective_from),
    -- A provider is in one place at a time, whatever the location.
    CONSTRAINT working_hours_no_overlap EXCLUDE USING gist (
        provider_id WITH =,
        weekday WITH =,
        tsrange(DATE '2000-01-01' + start_time, DATE '2000-01-01' + end_time) WITH &&,
        daterange(effective_from, effective_until, '[]') WITH &&
    )
);

CREATE TABLE time_off (
    id          uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text CHECK (length(reason) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT time_off_order CHECK (ends_at > starts_at)
);
CREATE INDEX time_off_provider_during_idx ON time_off USING gist (provider_id, tstzrange(starts_at, ends_at));

-- Exactly one row: the clinic's scheduling rules.
CREATE TABLE clinic_settings (
    id                             boolean PRIMARY KEY DEFAULT true CHECK (id),
    slot_step_minutes              integer NOT NULL CHECK (slot_step_minutes BETWEEN 5 AND 240),
    minimum_notice_minutes         integer NOT NULL CHECK (minimum_notice_minutes BETWEEN 0 AND 43200),
    booking_horizon_days           integer NOT NULL CHECK (booking_horizon_days BETWEEN 1 AND 730),
    late_cancellation_hours        integer NOT NULL CHECK (late_cancellation_hours BETWEEN 0 AND 336),
    buffer_after_injection_minutes integer NOT NULL CHECK (buffer_after_injection_minutes BETWEEN 0 AND 240),
    version                        integer NOT NULL DEFAULT 1,
    updated_at                     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO clinic_settings (slot_step_minutes, minimum_notice_minutes, booking_horizon_days,
                             late_cancellation_hours, buffer_after_injection_minutes)
VALUES (15, 720, 180, 24, 10);
