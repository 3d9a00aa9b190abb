-- How long before its start a patient may be checked in (visits happen when they happen).
ALTER TABLE clinic_settings ADD COLUMN check_in_lead_minutes integer NOT NULL DEFAULT 120
    CHECK (check_in_lead_minutes BETWEEN 0 AND 1440);
