DROP INDEX holds_location_idx;
DROP TRIGGER holds_resources ON holds;
DROP FUNCTION holds_resources();
DROP TRIGGER sessions_resources_live ON sessions;
DROP FUNCTION sessions_resources_live();
DROP TABLE session_resources;
ALTER TABLE treatment_areas DROP COLUMN requirements;
DROP TABLE resource_downtime;
DROP TABLE resources;
