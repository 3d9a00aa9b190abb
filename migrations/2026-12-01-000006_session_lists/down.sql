ALTER TABLE sessions DROP CONSTRAINT sessions_hold_bounded;
DROP INDEX sessions_provider_starts_idx;
