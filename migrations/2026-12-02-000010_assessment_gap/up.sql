-- A course's first session falls at least this many local days after the patient's
-- assessment in the area (0: later the same day, once the assessment has ended).
ALTER TABLE treatment_areas ADD COLUMN assessment_gap_days integer NOT NULL DEFAULT 1
    CHECK (assessment_gap_days BETWEEN 0 AND 60);
