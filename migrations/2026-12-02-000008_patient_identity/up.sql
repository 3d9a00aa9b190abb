-- One record per person, without personal values in any index key: PostgreSQL prints a
-- violated key in its server log (`Key (...)=(...)`), so the duplicate rule is a unique index
-- on a keyed hash of the email and date of birth rather than on the values themselves. The key
-- is random per database and never leaves it, so the hash in a log cannot be looked up.
CREATE TABLE clinic_secrets (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    identity_key bytea NOT NULL
        DEFAULT uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
        CHECK (length(identity_key) = 32)
);
INSERT INTO clinic_secrets DEFAULT VALUES;

-- The identity of a patient: the email compared case-insensitively (the service stores it in
-- NFC with its domain case-folded), with the date of birth.
CREATE FUNCTION patient_identity_digest(email text, date_of_birth date) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT sha256((SELECT identity_key FROM clinic_secrets)
                      || convert_to(lower(email) || E'\n' || date_of_birth::text, 'UTF8'))
    $$;

ALTER TABLE patients ADD COLUMN identity_digest bytea;

-- Every write path keeps the digest right, whoever writes the row.
CREATE FUNCTION patients_set_identity_digest() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        NEW.identity_digest := CASE WHEN NEW.email IS NULL THEN NULL
                                    ELSE patient_identity_digest(NEW.email, NEW.date_of_birth) END;
        RETURN NEW;
    END
    $$;
CREATE TRIGGER patients_identity_digest
    BEFORE INSERT OR UPDATE OF email, date_of_birth, identity_digest ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_set_identity_digest();

UPDATE patients SET identity_digest = NULL WHERE email IS NOT NULL;
DROP INDEX patients_email_dob_key;
CREATE UNIQUE INDEX patients_identity_key ON patients (identity_digest);
