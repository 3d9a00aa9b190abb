DROP INDEX patients_identity_key;
DROP TRIGGER patients_identity_digest ON patients;
DROP FUNCTION patients_set_identity_digest();
ALTER TABLE patients DROP COLUMN identity_digest;
DROP FUNCTION patient_identity_digest(text, date);
DROP TABLE clinic_secrets;
CREATE UNIQUE INDEX patients_email_dob_key ON patients (lower(email), date_of_birth) WHERE email IS NOT NULL;
