ALTER TABLE clinic_settings DROP COLUMN feed_full_names;
DROP TABLE calendar_feeds;
