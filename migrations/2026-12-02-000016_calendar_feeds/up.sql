-- Calendar feeds: a provider's sessions at a capability URL (`/calendar/{token}.ics`), the
-- token stored as its SHA-256, one live feed per provider (a new one replaces it).
CREATE TABLE calendar_feeds (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    provider_id uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX calendar_feeds_one_live ON calendar_feeds (provider_id)
    WHERE revoked_at IS NULL;

-- Whether feeds name patients in full (else by initials).
ALTER TABLE clinic_settings ADD COLUMN feed_full_names boolean NOT NULL DEFAULT false;
