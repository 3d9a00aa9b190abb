ALTER TABLE sessions DROP CONSTRAINT sessions_course_number_with_course;
-- Integration keys stay (the audit trail cites them), revoked and without a role of their own.
UPDATE api_keys SET role = 'staff', revoked_at = coalesce(revoked_at, now())
    WHERE role = 'integration';
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('admin', 'staff', 'provider'));
DROP TABLE domain_event_sequence;
DROP TABLE domain_events;
