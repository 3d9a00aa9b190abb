ALTER TABLE treatment_areas DROP COLUMN assessment_gap_days;
