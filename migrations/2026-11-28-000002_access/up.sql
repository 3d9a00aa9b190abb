-- Who may call the API, and the trail of what was done with patient data (and every refusal).
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    -- The key's first characters, to recognise it in lists; the key itself is never stored.
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL CONSTRAINT api_keys_key_hash_key UNIQUE CHECK (length(key_hash) = 32),
    label        text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    role         text NOT NULL CHECK (role IN ('admin', 'staff', 'provider')),
    provider_id  uuid REFERENCES providers (id),
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_provider_role CHECK ((role = 'provider') = (provider_id IS NOT NULL))
);

CREATE TABLE audit_events (
    id            uuid PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    key_id        uuid REFERENCES api_keys (id),
    role          text,
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   uuid,
    patient_id    uuid,
    request_id    text,
    outcome       text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    status        smallint NOT NULL
);
CREATE INDEX audit_events_patient_idx ON audit_events (patient_id, id) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_events_key_idx ON audit_events (key_id, id);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, id);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);

-- The trail is append-only for the application's role.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
