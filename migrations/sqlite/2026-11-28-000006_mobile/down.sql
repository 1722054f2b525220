DROP INDEX issue_comments_issue;
DROP INDEX issues_updated;
DROP INDEX notifications_user_updated;
ALTER TABLE notifications DROP COLUMN updated_at;
DROP TABLE visibility_changes;
DROP TABLE devices;
DROP TABLE attachments;
DROP TABLE idempotency_keys;
