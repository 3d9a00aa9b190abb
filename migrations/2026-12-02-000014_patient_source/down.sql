ALTER TABLE patients DROP COLUMN source;
