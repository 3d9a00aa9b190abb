-- The searches read the active sessions of a few providers over a window. With millions of past
-- sessions those rows lie scattered over the table, one heap page each; this index holds only
-- the active ones, with every column the searches read, so that they are answered from it
-- (index-only, once vacuumed) however long the history grows. "Ends after X" is bounded by
-- "starts after X - 12 h" (sessions_hold_bounded) so that the start bounds the scan.
CREATE INDEX sessions_active_calendar_idx ON sessions (provider_id, starts_at)
    INCLUDE (held_until, id)
    WHERE status IN ('scheduled', 'confirmed', 'checked_in');
