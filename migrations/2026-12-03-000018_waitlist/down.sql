DELETE FROM event_cursors WHERE consumer = 'waitlist';
DELETE FROM notifications WHERE kind = 'waitlist_offer';
DROP INDEX notifications_waitlist_offer;
ALTER TABLE notifications
    DROP CONSTRAINT notifications_subject,
    ADD CONSTRAINT notifications_subject CHECK (
        CASE kind WHEN 'course_booked' THEN course_id IS NOT NULL ELSE session_id IS NOT NULL END),
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('booking_confirmation', 'reminder',
        'rescheduled', 'cancelled', 'course_booked', 'aftercare')),
    DROP COLUMN waitlist_offer_id;
DROP TABLE waitlist_history;
DROP TABLE waitlist_offers;
DROP TABLE waitlist_openings;
DROP TABLE waitlist_entries;
ALTER TABLE clinic_settings
    DROP COLUMN waitlist_debounce_minutes,
    DROP COLUMN waitlist_offer_minutes,
    DROP COLUMN waitlist_offer_count;
