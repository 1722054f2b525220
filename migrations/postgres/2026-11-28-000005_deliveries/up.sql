-- Whether a user wants notifications by email too (the in-app feed is always on).
ALTER TABLE users ADD COLUMN notify_email BOOLEAN NOT NULL DEFAULT TRUE;

-- The outbox of outgoing messages: an email per notification, or a webhook call per
-- department event, written in the same transaction, delivered by the delivery worker at least once, with back-off, then
-- dead-lettered.
CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    notification_id BIGINT REFERENCES notifications (id),
    department_id BIGINT REFERENCES departments (id),
    payload TEXT,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_target ON deliveries (target, id);
