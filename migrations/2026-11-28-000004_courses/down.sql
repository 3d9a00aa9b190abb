DROP INDEX sessions_course_number_key;
ALTER TABLE sessions DROP CONSTRAINT sessions_course_id_fkey;
DROP TABLE courses;
