DROP TABLE idempotency_keys;
DROP TABLE clinical_records;
DROP TABLE session_events;
DROP TABLE sessions;
DROP TABLE patients;
