-- A provider's sessions by start: the schedule and `GET /v1/sessions?provider_id=` read them
-- through this index instead of the whole calendar.
CREATE INDEX sessions_provider_starts_idx ON sessions (provider_id, starts_at, id);
-- No session holds a provider longer than an area's longest kind (8 h) plus the largest buffer
-- (4 h); lists rely on it to bound "ends after X" by "starts after X - 12 h", which indexes serve.
ALTER TABLE sessions ADD CONSTRAINT sessions_hold_bounded
    CHECK (held_until <= starts_at + interval '12 hours');
