-- Online booking: a visitor holds a slot for a few minutes, proves their email with a code,
-- and gets a link to manage the session booked.

ALTER TABLE clinic_settings
    ADD COLUMN hold_minutes integer NOT NULL DEFAULT 10
        CONSTRAINT settings_hold_minutes CHECK (hold_minutes BETWEEN 1 AND 60),
    -- The number patients call, named in refusals they cannot get around online.
    ADD COLUMN phone text CONSTRAINT settings_phone CHECK (length(phone) BETWEEN 3 AND 32);

-- A client's address as stored: hashed with the clinic's secret, so live holds can be counted
-- per client without keeping the address.
CREATE FUNCTION client_digest(address text) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT sha256((SELECT identity_key FROM clinic_secrets)
                      || convert_to('client' || E'\n' || address, 'UTF8'))
    $$;

-- A slot kept for one visitor while they book. It is live while unreleased and before
-- `expires_at`; nothing needs to run for an expired one to free its slot.
CREATE TABLE holds (
    id                uuid PRIMARY KEY,
    -- SHA-256 of the token handed out once; the token proves the hold is the caller's.
    token_hash        bytea NOT NULL UNIQUE,
    -- `client_digest` of the client's address.
    client_hash       bytea NOT NULL,
    provider_id       uuid NOT NULL REFERENCES providers (id),
    location_id       uuid NOT NULL REFERENCES locations (id),
    treatment_area_id uuid NOT NULL REFERENCES treatment_areas (id),
    kind              text NOT NULL CHECK (kind IN ('assessment', 'injection', 'follow_up')),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    held_until        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    -- Set when the hold is used by a booking, voided, or cleared after it expired.
    released_at       timestamptz,
    CONSTRAINT holds_time_order CHECK (ends_at > starts_at AND held_until >= ends_at),
    CONSTRAINT holds_lifetime CHECK (expires_at > created_at)
);
CREATE INDEX holds_provider_idx ON holds (provider_id, starts_at) WHERE released_at IS NULL;
CREATE INDEX holds_client_idx ON holds (client_hash, expires_at) WHERE released_at IS NULL;

-- What occupies each provider's time, sessions and holds alike, so one exclusion constraint
-- keeps them apart across replicas. A row's `valid` is when it occupies: an active session
-- always, a hold from its creation until it expires. Two rows conflict when both their times
-- and their validities overlap, so an expired hold conflicts with no new hold; bookings clear
-- the expired holds on their span (`models::holds::clear_expired`) before they insert.
-- Triggers keep the rows in step with `sessions` and `holds`; nothing else writes here.
CREATE TABLE calendar_claims (
    provider_id uuid NOT NULL,
    during      tstzrange NOT NULL,
    valid       tstzrange NOT NULL,
    session_id  uuid UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    hold_id     uuid UNIQUE REFERENCES holds (id) ON DELETE CASCADE,
    CONSTRAINT calendar_claims_one_owner CHECK ((session_id IS NULL) <> (hold_id IS NULL)),
    CONSTRAINT calendar_claims_overlap EXCLUDE USING gist (
        provider_id WITH =, during WITH &&, valid WITH &&
    )
);

CREATE FUNCTION sessions_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('scheduled', 'confirmed', 'checked_in') THEN
        INSERT INTO calendar_claims (provider_id, during, valid, session_id)
        VALUES (NEW.provider_id, tstzrange(NEW.starts_at, NEW.held_until), tstzrange(NULL, NULL), NEW.id)
        ON CONFLICT (session_id)
        DO UPDATE SET provider_id = EXCLUDED.provider_id, during = EXCLUDED.during;
    ELSE
        DELETE FROM calendar_claims WHERE session_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_claim AFTER INSERT OR UPDATE OF status, provider_id, starts_at, held_until
    ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_claim();

CREATE FUNCTION holds_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.released_at IS NULL THEN
        INSERT INTO calendar_claims (provider_id, during, valid, hold_id)
        VALUES (NEW.provider_id, tstzrange(NEW.starts_at, NEW.held_until),
                tstzrange(NEW.created_at, NEW.expires_at), NEW.id)
        ON CONFLICT (hold_id) DO UPDATE SET valid = EXCLUDED.valid;
    ELSE
        DELETE FROM calendar_claims WHERE hold_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER holds_claim AFTER INSERT OR UPDATE OF expires_at, released_at
    ON holds FOR EACH ROW EXECUTE FUNCTION holds_claim();

INSERT INTO calendar_claims (provider_id, during, valid, session_id)
SELECT provider_id, tstzrange(starts_at, held_until), tstzrange(NULL, NULL), id
FROM sessions WHERE status IN ('scheduled', 'confirmed', 'checked_in');

-- A visitor's booking, waiting for the code mailed to them. The personal details are erased
-- once it is verified (they are then the patient's record) or void.
CREATE TABLE booking_requests (
    id            uuid PRIMARY KEY,
    hold_id       uuid NOT NULL REFERENCES holds (id),
    status        text NOT NULL CHECK (status IN ('awaiting_verification', 'verified', 'void')),
    given_name    text CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name   text CHECK (length(family_name) BETWEEN 1 AND 100),
    date_of_birth date,
    email         text CHECK (length(email) <= 254),
    phone         text CHECK (length(phone) <= 32),
    message       text CHECK (length(message) <= 2000),
    -- SHA-256 of the request's id and the six-digit code; the code itself is only mailed.
    code_hash     bytea NOT NULL,
    attempts      smallint NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    session_id    uuid REFERENCES sessions (id),
    CONSTRAINT booking_requests_verified CHECK ((status = 'verified') = (session_id IS NOT NULL)),
    CONSTRAINT booking_requests_details CHECK (
        (status = 'awaiting_verification') = (email IS NOT NULL AND given_name IS NOT NULL
            AND family_name IS NOT NULL AND date_of_birth IS NOT NULL))
);
CREATE INDEX booking_requests_hold_idx ON booking_requests (hold_id);

-- The links patients manage their session with; stored as SHA-256, one session each.
CREATE TABLE manage_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    created_at timestamptz NOT NULL,
    -- Set when the session moves (a new link is issued).
    revoked_at timestamptz
);
CREATE INDEX manage_tokens_session_idx ON manage_tokens (session_id) WHERE revoked_at IS NULL;
