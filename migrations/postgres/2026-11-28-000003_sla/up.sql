-- SLA policies per category and priority. Durations are working seconds (shown to
-- clients in minutes). Defaults follow local practice: urgent issues the same working day;
-- ordinary ones acknowledged within one working day and resolved within 5 to 15.
CREATE TABLE sla_policies (
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    ack_seconds BIGINT NOT NULL,
    resolve_seconds BIGINT NOT NULL,
    warn_percent INTEGER NOT NULL,
    auto_close_days DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (category, priority)
);
INSERT INTO sla_policies (category, priority, ack_seconds, resolve_seconds, warn_percent, auto_close_days, updated_at) VALUES
    ('approval_delay', 'normal', 25200, 126000, 80, 5.0, '2026-01-01 00:00:00'),
    ('approval_delay', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('land_supply', 'normal', 25200, 378000, 80, 5.0, '2026-01-01 00:00:00'),
    ('land_supply', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('utility_supply', 'normal', 25200, 252000, 80, 5.0, '2026-01-01 00:00:00'),
    ('utility_supply', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('policy_not_applied', 'normal', 25200, 252000, 80, 5.0, '2026-01-01 00:00:00'),
    ('policy_not_applied', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('inspection_disturbance', 'normal', 25200, 126000, 80, 5.0, '2026-01-01 00:00:00'),
    ('inspection_disturbance', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('service_conduct', 'normal', 25200, 126000, 80, 5.0, '2026-01-01 00:00:00'),
    ('service_conduct', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('payment_arrears', 'normal', 25200, 378000, 80, 5.0, '2026-01-01 00:00:00'),
    ('payment_arrears', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00'),
    ('other', 'normal', 25200, 252000, 80, 5.0, '2026-01-01 00:00:00'),
    ('other', 'urgent', 7200, 25200, 80, 3.0, '2026-01-01 00:00:00');

-- Business calendars set by supervisors; years absent here use the shipped official ones.
CREATE TABLE business_calendars (
    year INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Every SLA moment still to come, stored so that a restart loses none. The worker finds
-- due ones through the partial index, so its cost follows the number due.
CREATE TABLE sla_timers (
    id BIGSERIAL PRIMARY KEY,
    issue_id BIGINT NOT NULL REFERENCES issues (id),
    kind TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    fired_at TIMESTAMP
);
CREATE INDEX sla_timers_pending ON sla_timers (due_at) WHERE fired_at IS NULL;
CREATE INDEX sla_timers_issue ON sla_timers (issue_id);

-- The clocks of an issue (one row each), so that deadlines can be recomputed when the
-- calendar changes: the policy in force when they started, when they started, and the
-- working time spent paused.
CREATE TABLE issue_clocks (
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
