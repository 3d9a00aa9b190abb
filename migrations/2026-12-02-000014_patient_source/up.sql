-- Who registered each patient. Patients from before this column were all registered by staff
-- (directly or from an inquiry: the two were not told apart then); every new row names its
-- source, so the column keeps no default.
ALTER TABLE patients ADD COLUMN source text NOT NULL DEFAULT 'staff'
    CONSTRAINT patients_source_known CHECK (source IN ('staff', 'inquiry', 'online'));
ALTER TABLE patients ALTER COLUMN source DROP DEFAULT;
