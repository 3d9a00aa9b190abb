DROP TRIGGER providers_archived ON providers;
DROP TRIGGER api_keys_changed ON api_keys;
DROP FUNCTION notify_api_key_change();
