CREATE TABLE projects (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    lead_department_id BIGINT REFERENCES departments (id),
    park TEXT,
    chain_group TEXT,
    investment_wan DOUBLE PRECISION,
    enterprise TEXT,
    contact_person TEXT,
    contact_phone TEXT,
    agent TEXT,
    stage TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE project_observers (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_observers_user_id ON project_observers (user_id);

CREATE TABLE milestones (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    responsible_department_id BIGINT REFERENCES departments (id),
    planned_date DATE,
    actual_date DATE,
    status TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX milestones_project_id ON milestones (project_id);

CREATE TABLE routing_rules (
    id BIGSERIAL PRIMARY KEY,
    category TEXT NOT NULL,
    park TEXT,
    milestone_kind TEXT,
    department_id BIGINT NOT NULL REFERENCES departments (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE issue_counters (
    year INTEGER PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE issues (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    milestone_id BIGINT REFERENCES milestones (id),
    reporter_id BIGINT NOT NULL REFERENCES users (id),
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    private BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    department_id BIGINT REFERENCES departments (id),
    assignee_id BIGINT REFERENCES users (id),
    ack_due_at TIMESTAMP,
    resolve_due_at TIMESTAMP,
    acknowledged_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    rating INTEGER,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    extension_requested_minutes BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX issues_project_id ON issues (project_id);
CREATE INDEX issues_reporter_id ON issues (reporter_id);
CREATE INDEX issues_department_status ON issues (department_id, status);
CREATE INDEX issues_updated_at ON issues (updated_at);

CREATE TABLE issue_departments (
    issue_id BIGINT NOT NULL REFERENCES issues (id),
    department_id BIGINT NOT NULL REFERENCES departments (id),
    PRIMARY KEY (issue_id, department_id)
);
CREATE INDEX issue_departments_department_id ON issue_departments (department_id);

CREATE TABLE issue_comments (
    id BIGSERIAL PRIMARY KEY,
    issue_id BIGINT NOT NULL REFERENCES issues (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX issue_comments_issue_id ON issue_comments (issue_id);

CREATE TABLE issue_events (
    id BIGSERIAL PRIMARY KEY,
    issue_id BIGINT NOT NULL REFERENCES issues (id),
    kind TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    at TIMESTAMP NOT NULL,
    data TEXT NOT NULL,
    internal BOOLEAN NOT NULL
);
CREATE INDEX issue_events_issue_id ON issue_events (issue_id);

-- The timeline is append-only: the database refuses to change or remove an event.
CREATE FUNCTION issue_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issue_events is append-only';
END;
$$;
CREATE TRIGGER issue_events_no_change BEFORE UPDATE OR DELETE ON issue_events
FOR EACH ROW EXECUTE FUNCTION issue_events_append_only();
