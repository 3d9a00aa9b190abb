DROP TABLE clinic_settings;
DROP TABLE time_off;
DROP TABLE working_hours;
DROP TABLE provider_locations;
DROP TABLE provider_treatment_areas;
DROP TABLE providers;
DROP TABLE treatment_areas;
DROP TABLE locations;
DROP EXTENSION IF EXISTS btree_gist;
