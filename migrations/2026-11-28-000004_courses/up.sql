-- Treatment courses: a planned series of sessions for one area of one patient.
CREATE TABLE courses (
    id                    uuid PRIMARY KEY,
    patient_id            uuid NOT NULL REFERENCES patients (id),
    provider_id           uuid NOT NULL REFERENCES providers (id),
    location_id           uuid NOT NULL REFERENCES locations (id),
    treatment_area_id     uuid NOT NULL REFERENCES treatment_areas (id),
    side                  text NOT NULL CHECK (side IN ('left', 'right', 'bilateral', 'none')),
    planned_sessions      integer NOT NULL CHECK (planned_sessions BETWEEN 1 AND 50),
    interval_min_days     integer NOT NULL CHECK (interval_min_days >= 1),
    interval_target_days  integer,
    interval_max_days     integer NOT NULL CHECK (interval_max_days <= 365),
    goal                  text CHECK (length(goal) <= 2000),
    baseline_pain         smallint CHECK (baseline_pain BETWEEN 0 AND 10),
    baseline_function     smallint CHECK (baseline_function BETWEEN 0 AND 100),
    assessment_session_id uuid REFERENCES sessions (id),
    status                text NOT NULL DEFAULT 'planned'
                          CHECK (status IN ('planned', 'active', 'on_hold', 'completed', 'discontinued')),
    status_reason         text CHECK (length(status_reason) <= 2000),
    -- Interval windows knowingly broken by forced moves: [{"at", "message"}].
    warnings              jsonb NOT NULL DEFAULT '[]',
    version               integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT courses_interval_order CHECK (
        interval_min_days <= interval_max_days
        AND (interval_target_days IS NULL
             OR interval_target_days BETWEEN interval_min_days AND interval_max_days))
);
CREATE INDEX courses_patient_idx ON courses (patient_id, id);
CREATE INDEX courses_provider_idx ON courses (provider_id, id);

ALTER TABLE sessions ADD CONSTRAINT sessions_course_id_fkey FOREIGN KEY (course_id) REFERENCES courses (id);
-- One live session per number in a course.
CREATE UNIQUE INDEX sessions_course_number_key ON sessions (course_id, course_number)
    WHERE course_id IS NOT NULL AND status <> 'cancelled';
