-- Webhooks (Standard Webhooks v1): endpoints an admin registers, one delivery per endpoint and
-- event (fanned out from the event log by the `webhooks` cursor), and every attempt of each.

CREATE TABLE webhook_endpoints (
    id                    uuid PRIMARY KEY,
    url                   text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description           text CHECK (length(description) <= 500),
    -- NULL: every event type.
    event_types           text[] CHECK (cardinality(event_types) BETWEEN 1 AND 100),
    enabled               boolean NOT NULL,
    disabled_reason       text,
    -- The HMAC key must be usable to sign, so it cannot be hashed; it is never answered again
    -- after the create (or rotation) that made it.
    secret                bytea NOT NULL CHECK (length(secret) BETWEEN 24 AND 64),
    previous_secret       bytea CHECK (length(previous_secret) BETWEEN 24 AND 64),
    previous_secret_until timestamptz,
    -- The first failure since the last success; five days of it disable the endpoint.
    failing_since         timestamptz,
    version               integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT webhook_endpoints_reason CHECK (enabled = (disabled_reason IS NULL)),
    CONSTRAINT webhook_endpoints_rotation
        CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL))
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The event's id (`webhook-id`, the same on every attempt); no foreign key, so the event
    -- log's retention does not wait on deliveries. A ping has an id of its own.
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    -- The exact bytes signed and sent, the same on every attempt.
    body            text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    claim_token     uuid,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL,
    settled_at      timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id),
    CONSTRAINT webhook_deliveries_settled CHECK ((status = 'pending') = (settled_at IS NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    id               uuid PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at     timestamptz NOT NULL,
    -- NULL when no answer came (no connection, a timeout, a forbidden address).
    status_code      smallint CHECK (status_code BETWEEN 100 AND 999),
    latency_ms       integer NOT NULL CHECK (latency_ms >= 0),
    response_excerpt text CHECK (octet_length(response_excerpt) <= 1024),
    error            text
);
CREATE INDEX webhook_attempts_of_delivery ON webhook_attempts (delivery_id, attempted_at);

-- Webhooks start from the events to come.
INSERT INTO event_cursors (consumer, position)
    SELECT 'webhooks', last_position FROM domain_event_sequence;
