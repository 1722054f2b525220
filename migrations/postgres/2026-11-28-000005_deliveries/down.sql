DROP TABLE deliveries;
ALTER TABLE users DROP COLUMN notify_email;
