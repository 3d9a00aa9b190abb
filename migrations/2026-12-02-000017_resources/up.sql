-- Rooms and devices: what a session needs besides its provider. A treatment area names, per
-- session kind, the tags it needs; a booking takes one free resource per tag at its location,
-- and an exclusion constraint keeps a resource out of two live sessions at once.

CREATE TABLE resources (
    id          uuid PRIMARY KEY,
    location_id uuid NOT NULL REFERENCES locations (id),
    kind        text NOT NULL CHECK (kind IN ('room', 'device')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    tags        text[] NOT NULL CHECK (cardinality(tags) BETWEEN 1 AND 10),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);
-- Names are what the front desk tells apart: unique per location among active resources.
CREATE UNIQUE INDEX resources_name_key ON resources (location_id, lower(name)) WHERE archived_at IS NULL;

-- Maintenance and repair: the resource cannot be allocated then.
CREATE TABLE resource_downtime (
    id          uuid PRIMARY KEY,
    resource_id uuid NOT NULL REFERENCES resources (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text CHECK (length(reason) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT resource_downtime_time_order CHECK (ends_at > starts_at)
);
CREATE INDEX resource_downtime_resource_idx ON resource_downtime (resource_id, starts_at);

-- Tags needed per session kind, e.g. {"injection": ["procedure-room", "ultrasound"]}; none by
-- default, so a clinic without resources books as before.
ALTER TABLE treatment_areas
    ADD COLUMN requirements jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT treatment_areas_requirements CHECK (jsonb_typeof(requirements) = 'object');

-- Which resource stands for which tag of a session, over the session's held span (buffer
-- included). A hold's rows keep the resources of the session it may become, valid until the
-- hold expires (as in `calendar_claims`, an expired hold conflicts with no new hold; bookings
-- release the expired holds at their location on their span first). A session's rows stay as
-- its record of what it used; `live` follows its status, and only live rows conflict.
-- `period` is the span as a range, for the constraint and its index, which searches use too;
-- they read the plain instants (cheaper than taking the range apart row by row).
CREATE TABLE session_resources (
    session_id  uuid REFERENCES sessions (id) ON DELETE CASCADE,
    hold_id     uuid REFERENCES holds (id) ON DELETE CASCADE,
    resource_id uuid NOT NULL REFERENCES resources (id),
    tag         text NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    period      tstzrange GENERATED ALWAYS AS (tstzrange(starts_at, ends_at)) STORED,
    valid       tstzrange NOT NULL DEFAULT tstzrange(NULL, NULL),
    live        boolean NOT NULL DEFAULT true,
    CONSTRAINT session_resources_one_owner CHECK ((session_id IS NULL) <> (hold_id IS NULL)),
    CONSTRAINT session_resources_span CHECK (ends_at > starts_at),
    CONSTRAINT session_resources_overlap EXCLUDE USING gist (
        resource_id WITH =, period WITH &&, valid WITH &&
    ) WHERE (live)
);
CREATE UNIQUE INDEX session_resources_session_tag_key ON session_resources (session_id, tag);
CREATE INDEX session_resources_hold_idx ON session_resources (hold_id) WHERE hold_id IS NOT NULL;

CREATE FUNCTION sessions_resources_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE session_resources
    SET live = NEW.status IN ('scheduled', 'confirmed', 'checked_in')
    WHERE session_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_resources_live AFTER UPDATE OF status ON sessions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION sessions_resources_live();

CREATE FUNCTION holds_resources() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.released_at IS NOT NULL THEN
        DELETE FROM session_resources WHERE hold_id = NEW.id;
    ELSE
        UPDATE session_resources SET valid = tstzrange(NEW.created_at, NEW.expires_at)
        WHERE hold_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER holds_resources AFTER UPDATE OF expires_at, released_at ON holds
    FOR EACH ROW EXECUTE FUNCTION holds_resources();

-- Bookings release expired holds at their location as well as their provider's.
CREATE INDEX holds_location_idx ON holds (location_id, starts_at) WHERE released_at IS NULL;
