-- Notifications to patients (confirmations, reminders, changes), planned from the event log
-- and delivered by the worker in `serve`, with the settings and preferences they follow.

ALTER TABLE clinic_settings
    ADD COLUMN reminder_offsets_minutes integer[] NOT NULL DEFAULT '{1440,120}'
        CONSTRAINT settings_reminder_offsets CHECK (
            cardinality(reminder_offsets_minutes) <= 5
            AND array_position(reminder_offsets_minutes, NULL) IS NULL
            AND 1 <= ALL (reminder_offsets_minutes)
            AND 20160 >= ALL (reminder_offsets_minutes)),
    ADD COLUMN quiet_hours_start time DEFAULT '21:00',
    ADD COLUMN quiet_hours_end time DEFAULT '08:00',
    ADD CONSTRAINT settings_quiet_hours_both
        CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)),
    ADD COLUMN sender_name text CHECK (length(sender_name) BETWEEN 1 AND 100),
    ADD COLUMN reply_to text CHECK (length(reply_to) BETWEEN 3 AND 254);

-- Whether the patient gets email (the unsubscribe link turns it off).
ALTER TABLE patients ADD COLUMN email_notifications boolean NOT NULL DEFAULT true;

CREATE TABLE notifications (
    id                 uuid PRIMARY KEY,
    patient_id         uuid NOT NULL REFERENCES patients (id),
    session_id         uuid REFERENCES sessions (id),
    course_id          uuid REFERENCES courses (id),
    kind               text NOT NULL CHECK (kind IN ('booking_confirmation', 'reminder',
                           'rescheduled', 'cancelled', 'course_booked', 'aftercare')),
    channel            text NOT NULL DEFAULT 'email' CHECK (channel IN ('email')),
    status             text NOT NULL CHECK (status IN ('pending', 'sent', 'failed',
                           'cancelled', 'skipped')),
    due_at             timestamptz NOT NULL,
    -- A reminder's minutes before the start.
    offset_minutes     integer CHECK (offset_minutes > 0),
    -- A move's start before it moved.
    previous_starts_at timestamptz,
    -- The event it was planned from (events are purged, so no foreign key), or the one it
    -- resends.
    event_id           uuid,
    resend_of          uuid REFERENCES notifications (id),
    attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error         text,
    skip_reason        text CHECK (skip_reason IN ('moment_passed', 'opted_out', 'no_email',
                           'session_over', 'patient_archived')),
    -- The subject as sent.
    subject            text,
    -- A worker's claim: while `lease_expires_at` is ahead, no other worker takes it; a crashed
    -- worker's claim lapses and the notification is taken again.
    lease_token        uuid,
    lease_expires_at   timestamptz,
    sent_at            timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CONSTRAINT notifications_reminder_offset CHECK ((kind = 'reminder') = (offset_minutes IS NOT NULL)),
    CONSTRAINT notifications_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT notifications_skip_reason CHECK ((status = 'skipped') = (skip_reason IS NOT NULL)),
    CONSTRAINT notifications_subject CHECK (
        CASE kind WHEN 'course_booked' THEN course_id IS NOT NULL ELSE session_id IS NOT NULL END),
    CONSTRAINT notifications_lease CHECK ((lease_token IS NULL) = (lease_expires_at IS NULL)),
    CONSTRAINT notifications_origin CHECK (event_id IS NOT NULL OR resend_of IS NOT NULL)
);

-- An event plans each notification once, whichever worker reads it.
CREATE UNIQUE INDEX notifications_once_per_event
    ON notifications (event_id, kind, offset_minutes) NULLS NOT DISTINCT
    WHERE resend_of IS NULL;
-- What the worker claims next.
CREATE INDEX notifications_due ON notifications (due_at) WHERE status = 'pending';
CREATE INDEX notifications_session ON notifications (session_id, created_at);
CREATE INDEX notifications_patient ON notifications (patient_id, created_at);

-- One-click unsubscribe links (RFC 8058): a random token per message, stored as its SHA-256.
CREATE TABLE unsubscribe_tokens (
    token_hash      bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    patient_id      uuid NOT NULL REFERENCES patients (id),
    notification_id uuid NOT NULL REFERENCES notifications (id),
    created_at      timestamptz NOT NULL,
    used_at         timestamptz
);

-- How far each consumer of the event log has read. A consumer locks its row while it works
-- (`FOR UPDATE SKIP LOCKED`), so one replica at a time advances it.
CREATE TABLE event_cursors (
    consumer   text PRIMARY KEY,
    position   bigint NOT NULL CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Notifications start from the events to come: nothing is sent for changes made before.
INSERT INTO event_cursors (consumer, position)
    SELECT 'notifications', last_position FROM domain_event_sequence;
