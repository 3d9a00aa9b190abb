-- Refusals without a valid key are written one event per client and minute, with their count.
ALTER TABLE audit_events
    ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN client text CHECK (length(client) <= 64);

-- The trail stays append-only, but for the retention purge: it deletes only rows older than
-- the cutoff it declares for its own transaction (`SET LOCAL prolo.audit_purge_before`), and
-- records itself as an event.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := nullif(current_setting('prolo.audit_purge_before', true), '')::timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF cutoff IS NOT NULL AND OLD.occurred_at < cutoff THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
