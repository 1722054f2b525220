CREATE TABLE issue_clocks_keyed (
    issue_id BIGINT PRIMARY KEY REFERENCES issues (id),
    ack_seconds BIGINT NOT NULL,
    resolve_seconds BIGINT NOT NULL,
    warn_percent INTEGER NOT NULL,
    auto_close_days DOUBLE PRECISION NOT NULL,
    ack_started_at TIMESTAMP,
    resolve_started_at TIMESTAMP,
    resolve_paused_at TIMESTAMP,
    resolve_paused_seconds BIGINT NOT NULL,
    auto_close_at TIMESTAMP
);
INSERT INTO issue_clocks_keyed (
    issue_id, ack_seconds, resolve_seconds, warn_percent, auto_close_days, ack_started_at,
    resolve_started_at, resolve_paused_at, resolve_paused_seconds, auto_close_at
)
SELECT issue_id, ack_seconds, resolve_seconds, warn_percent, auto_close_days, ack_started_at,
    resolve_started_at, resolve_paused_at, resolve_paused_seconds, auto_close_at
FROM issue_clocks;
DROP TABLE issue_clocks;
ALTER TABLE issue_clocks_keyed RENAME TO issue_clocks;
