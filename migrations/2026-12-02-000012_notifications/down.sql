DROP TABLE event_cursors;
DROP TABLE unsubscribe_tokens;
DROP TABLE notifications;
ALTER TABLE patients DROP COLUMN email_notifications;
ALTER TABLE clinic_settings
    DROP COLUMN reply_to,
    DROP COLUMN sender_name,
    DROP CONSTRAINT settings_quiet_hours_both,
    DROP COLUMN quiet_hours_end,
    DROP COLUMN quiet_hours_start,
    DROP COLUMN reminder_offsets_minutes;
