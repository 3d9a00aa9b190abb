-- Every replica keeps the API keys it has lately seen valid (src/http/key_cache.rs). A change
-- that can end a key's use tells every listening replica to forget them, at commit: the key
-- revoked, deleted or re-scoped, or its provider archived or removed. Statement-level, so a
-- bulk change sends one notice; `touch` (last_used_at only) sends none.
CREATE FUNCTION notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('api_key_changes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed
    AFTER UPDATE OF revoked_at, expires_at, role, provider_id, key_hash OR DELETE OR TRUNCATE
    ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_api_key_change();

CREATE TRIGGER providers_archived
    AFTER UPDATE OF archived_at OR DELETE OR TRUNCATE
    ON providers
    FOR EACH STATEMENT EXECUTE FUNCTION notify_api_key_change();
