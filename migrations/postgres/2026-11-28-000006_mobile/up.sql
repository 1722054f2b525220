-- Offline-safe writes: the first response to each (user, Idempotency-Key), replayed to a
-- retry with the same request and purged after the retention period.
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Photos and files: the bytes live in storage, only their metadata here.
CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    issue_id BIGINT NOT NULL REFERENCES issues (id),
    comment_id BIGINT REFERENCES issue_comments (id),
    uploader_id BIGINT NOT NULL REFERENCES users (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    location_kept BOOLEAN NOT NULL,
    width INTEGER,
    height INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_issue ON attachments (issue_id, id);

-- Phones that can be reached by push.
CREATE TABLE devices (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    platform TEXT NOT NULL,
    push_token TEXT NOT NULL UNIQUE,
    app_version TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);

-- Delta sync: when an issue enters or leaves a user's view without itself changing (the
-- user stops or starts following its project), so that the phone can fetch or drop it.
-- No issue_id: the user's whole view changed (a new role or department): sync afresh.
CREATE TABLE visibility_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    issue_id BIGINT REFERENCES issues (id),
    visible BOOLEAN NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX visibility_changes_user ON visibility_changes (user_id, at);

-- A notification changes when it is read: the feed syncs by updated_at.
ALTER TABLE notifications ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE notifications SET updated_at = COALESCE(read_at, created_at);
CREATE INDEX notifications_user_updated ON notifications (user_id, updated_at);
CREATE INDEX issues_updated ON issues (updated_at);
CREATE INDEX issue_comments_issue ON issue_comments (issue_id, id);
