-- Messages from the website's contact form, triaged by the front desk. Personal fields are
-- nullable only so the retention purge can erase them; the checks keep a live inquiry whole.
CREATE TABLE inquiries (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('question', 'appointment_request')),
    status             text NOT NULL DEFAULT 'new'
                       CHECK (status IN ('new', 'contacted', 'scheduled', 'closed', 'spam')),
    name               text CHECK (length(name) BETWEEN 1 AND 200),
    email              text CHECK (length(email) <= 254),
    phone              text CHECK (length(phone) <= 32),
    message            text CHECK (length(message) BETWEEN 1 AND 5000),
    symptom_duration   text CHECK (symptom_duration IN ('under_6_weeks', '6_weeks_to_3_months',
                                                        '3_to_12_months', 'over_a_year')),
    preferred_contact  text CHECK (preferred_contact IN ('email', 'phone', 'sms')),
    -- Either a list of local windows [{"weekday", "start", "end"}] or a string of free text.
    preferred_times    jsonb CHECK (jsonb_typeof(preferred_times) IN ('array', 'string')),
    source_page        text CHECK (length(source_page) <= 2000),
    treatment_area_id  uuid REFERENCES treatment_areas (id),
    consented_at       timestamptz NOT NULL,
    -- A likely duplicate: the first of a run of inquiries from the same email or phone, each
    -- within a day of the one before.
    duplicate_of       uuid REFERENCES inquiries (id),
    assignee_key_id    uuid REFERENCES api_keys (id),
    notes              text CHECK (length(notes) <= 10000),
    patient_id         uuid REFERENCES patients (id),
    session_id         uuid REFERENCES sessions (id),
    first_contacted_at timestamptz,
    closed_at          timestamptz,
    erased_at          timestamptz,
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CONSTRAINT inquiries_reachable CHECK (erased_at IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL),
    CONSTRAINT inquiries_whole CHECK (erased_at IS NOT NULL OR (name IS NOT NULL AND message IS NOT NULL)),
    CONSTRAINT inquiries_erased CHECK (erased_at IS NULL OR (
        status IN ('closed', 'spam') AND name IS NULL AND email IS NULL AND phone IS NULL
        AND message IS NULL AND symptom_duration IS NULL AND preferred_contact IS NULL
        AND preferred_times IS NULL AND source_page IS NULL AND notes IS NULL)),
    CONSTRAINT inquiries_closed_at CHECK ((status IN ('closed', 'spam')) = (closed_at IS NOT NULL)),
    CONSTRAINT inquiries_session_has_patient CHECK (session_id IS NULL OR patient_id IS NOT NULL),
    CONSTRAINT inquiries_converted_status CHECK (
        patient_id IS NULL OR status IN ('contacted', 'scheduled', 'closed')),
    CONSTRAINT inquiries_contact_after_arrival CHECK (first_contacted_at >= created_at)
);
CREATE INDEX inquiries_created_idx ON inquiries (created_at);
CREATE INDEX inquiries_status_idx ON inquiries (status, id);
-- The duplicate look-up: same email (any case) or same phone digits, recently.
CREATE INDEX inquiries_email_idx ON inquiries (lower(email), created_at) WHERE email IS NOT NULL;
CREATE INDEX inquiries_phone_idx ON inquiries (regexp_replace(phone, '[^0-9]', '', 'g'), created_at)
    WHERE phone IS NOT NULL;
-- The retention purge.
CREATE INDEX inquiries_purge_idx ON inquiries (closed_at) WHERE erased_at IS NULL;

-- Every change of an inquiry: what changed and who did it, never the personal values.
CREATE TABLE inquiry_events (
    id              uuid PRIMARY KEY,
    inquiry_id      uuid NOT NULL REFERENCES inquiries (id),
    occurred_at     timestamptz NOT NULL,
    key_id          uuid REFERENCES api_keys (id),
    action          text NOT NULL CHECK (action IN ('received', 'updated', 'converted', 'erased')),
    from_status     text,
    to_status       text NOT NULL,
    -- Names of the fields changed (`assignee_key_id`, `notes`, ...).
    changed         text[] NOT NULL DEFAULT '{}',
    assignee_key_id uuid,
    patient_id      uuid,
    session_id      uuid
);
CREATE INDEX inquiry_events_inquiry_idx ON inquiry_events (inquiry_id, id);
