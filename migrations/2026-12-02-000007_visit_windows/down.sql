ALTER TABLE clinic_settings DROP COLUMN check_in_lead_minutes;
