-- The waitlist: patients who want an earlier time, offers of freed slots to the best-fitting
-- of them, and the first acceptance booking the slot.

ALTER TABLE clinic_settings
    ADD COLUMN waitlist_offer_count integer NOT NULL DEFAULT 3
        CONSTRAINT settings_waitlist_offer_count CHECK (waitlist_offer_count BETWEEN 1 AND 10),
    ADD COLUMN waitlist_offer_minutes integer NOT NULL DEFAULT 30
        CONSTRAINT settings_waitlist_offer_minutes CHECK (waitlist_offer_minutes BETWEEN 5 AND 1440),
    -- How long a freed slot settles before it is offered (a cancellation followed by a
    -- rebooking at the desk offers nothing).
    ADD COLUMN waitlist_debounce_minutes integer NOT NULL DEFAULT 2
        CONSTRAINT settings_waitlist_debounce CHECK (waitlist_debounce_minutes BETWEEN 0 AND 60);

-- A patient waiting for a time: what for, with whom and where, and when they could come.
CREATE TABLE waitlist_entries (
    id                uuid PRIMARY KEY,
    patient_id        uuid NOT NULL REFERENCES patients (id),
    treatment_area_id uuid NOT NULL REFERENCES treatment_areas (id),
    kind              text NOT NULL CHECK (kind IN ('assessment', 'injection', 'follow_up')),
    provider_id       uuid REFERENCES providers (id),
    location_id       uuid REFERENCES locations (id),
    earliest          timestamptz,
    latest            timestamptz,
    -- ISO weekdays (1 = Monday) the patient can come on; empty: any.
    weekdays          smallint[] NOT NULL DEFAULT '{}'
        CONSTRAINT waitlist_weekdays CHECK (weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]),
    -- Local times of day a session must fit in, in the location's zone.
    window_start      time,
    window_end        time,
    urgent            boolean NOT NULL DEFAULT false,
    -- The patient's later session an offer would move earlier.
    session_id        uuid REFERENCES sessions (id),
    -- Who put the patient on the list: the front desk, or the patient from a manage link.
    source            text NOT NULL CHECK (source IN ('staff', 'patient')),
    status            text NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'booked', 'cancelled', 'expired')),
    -- The session an accepted offer booked or moved.
    booked_session_id uuid REFERENCES sessions (id),
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    ended_at          timestamptz,
    CONSTRAINT waitlist_time_window CHECK (
        (window_start IS NULL) = (window_end IS NULL) AND
        (window_start IS NULL OR window_start < window_end)),
    CONSTRAINT waitlist_range CHECK (earliest IS NULL OR latest IS NULL OR earliest < latest),
    CONSTRAINT waitlist_booked CHECK ((status = 'booked') = (booked_session_id IS NOT NULL)),
    CONSTRAINT waitlist_ended CHECK ((status = 'waiting') = (ended_at IS NULL))
);
-- One waiting entry per session to move.
CREATE UNIQUE INDEX waitlist_session_key ON waitlist_entries (session_id) WHERE status = 'waiting';
CREATE INDEX waitlist_waiting_idx ON waitlist_entries (created_at) WHERE status = 'waiting';
CREATE INDEX waitlist_patient_idx ON waitlist_entries (patient_id, created_at);

-- A provider's time that came free (a cancellation, a move away), offered once it settled.
-- A worker takes a due one with `FOR UPDATE SKIP LOCKED`, so one replica offers it.
CREATE TABLE waitlist_openings (
    id          uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers (id),
    location_id uuid NOT NULL REFERENCES locations (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    -- The event that freed it (events are purged, so no foreign key).
    event_id    uuid NOT NULL UNIQUE,
    freed_at    timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    -- pending: to be offered at `due_at`; offered: offers are out; filled: one was accepted;
    -- done: nobody fits, or the time was taken.
    status      text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'offered', 'filled', 'done')),
    rounds      integer NOT NULL DEFAULT 0,
    CONSTRAINT waitlist_openings_time_order CHECK (ends_at > starts_at)
);
CREATE INDEX waitlist_openings_due ON waitlist_openings (due_at) WHERE status = 'pending';
CREATE INDEX waitlist_openings_provider ON waitlist_openings (provider_id, starts_at)
    WHERE status IN ('pending', 'offered');

-- An offer of an opening's time to one entry, by email with a link; the first accepted offer
-- of an opening wins (a unique index, whatever the replicas).
CREATE TABLE waitlist_offers (
    id          uuid PRIMARY KEY,
    opening_id  uuid NOT NULL REFERENCES waitlist_openings (id),
    entry_id    uuid NOT NULL REFERENCES waitlist_entries (id),
    provider_id uuid NOT NULL REFERENCES providers (id),
    location_id uuid NOT NULL REFERENCES locations (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    -- SHA-256 of the link's token, set when the email is written (the token is only in it).
    token_hash  bytea UNIQUE,
    -- open; accepted; taken (another offer of the opening was accepted); closed (the time
    -- was booked otherwise, or the entry ended); expired.
    status      text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'accepted', 'taken', 'closed', 'expired')),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    resolved_at timestamptz,
    session_id  uuid REFERENCES sessions (id),
    CONSTRAINT waitlist_offers_once UNIQUE (opening_id, entry_id),
    CONSTRAINT waitlist_offers_time_order CHECK (ends_at > starts_at AND expires_at > created_at),
    CONSTRAINT waitlist_offers_resolved CHECK ((status = 'open') = (resolved_at IS NULL)),
    CONSTRAINT waitlist_offers_accepted CHECK ((status = 'accepted') = (session_id IS NOT NULL))
);
CREATE UNIQUE INDEX waitlist_offers_one_accepted ON waitlist_offers (opening_id)
    WHERE status = 'accepted';
-- A patient weighs one time at once: one open offer per entry, whichever replica offers.
CREATE UNIQUE INDEX waitlist_offers_one_open ON waitlist_offers (entry_id) WHERE status = 'open';
CREATE INDEX waitlist_offers_open ON waitlist_offers (expires_at) WHERE status = 'open';
CREATE INDEX waitlist_offers_entry ON waitlist_offers (entry_id, created_at);

-- What happened to an entry, in order: joined, changed, offered, accepted, ...
CREATE TABLE waitlist_history (
    id          uuid PRIMARY KEY,
    entry_id    uuid NOT NULL REFERENCES waitlist_entries (id),
    offer_id    uuid REFERENCES waitlist_offers (id),
    action      text NOT NULL CHECK (action IN ('joined', 'updated', 'offered', 'accepted',
                    'offer_taken', 'offer_closed', 'offer_expired', 'booked', 'cancelled',
                    'expired')),
    -- staff, patient, or system (the worker).
    actor       text NOT NULL CHECK (actor IN ('staff', 'patient', 'system')),
    occurred_at timestamptz NOT NULL
);
CREATE INDEX waitlist_history_entry ON waitlist_history (entry_id, occurred_at);

-- The offer's email.
ALTER TABLE notifications
    ADD COLUMN waitlist_offer_id uuid REFERENCES waitlist_offers (id),
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('booking_confirmation', 'reminder',
        'rescheduled', 'cancelled', 'course_booked', 'aftercare', 'waitlist_offer')),
    DROP CONSTRAINT notifications_subject,
    ADD CONSTRAINT notifications_subject CHECK (
        CASE kind
            WHEN 'course_booked' THEN course_id IS NOT NULL
            WHEN 'waitlist_offer' THEN waitlist_offer_id IS NOT NULL
            ELSE session_id IS NOT NULL
        END);
CREATE INDEX notifications_waitlist_offer ON notifications (waitlist_offer_id)
    WHERE waitlist_offer_id IS NOT NULL;

-- The waitlist reads the log from now on.
INSERT INTO event_cursors (consumer, position)
    SELECT 'waitlist', last_position FROM domain_event_sequence;
