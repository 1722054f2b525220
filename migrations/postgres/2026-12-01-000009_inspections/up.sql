-- Inspection filings (督查报备): a department files a planned inspection of a project unit,
-- which other departments may join; observers' unfiled visits are matched against them.
CREATE TABLE inspections (
    id BIGSERIAL PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments (id),
    project_id BIGINT NOT NULL REFERENCES projects (id),
    planned_on DATE NOT NULL,
    window_from TEXT,
    window_until TEXT,
    purpose TEXT NOT NULL,
    basis TEXT NOT NULL,
    -- The inspectors' names, a JSON array of strings.
    inspectors TEXT NOT NULL,
    status TEXT NOT NULL,
    took_place_on DATE,
    outcome TEXT,
    filed_by BIGINT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX inspections_project_day ON inspections (project_id, planned_on);
CREATE INDEX inspections_department ON inspections (department_id, id);
CREATE INDEX inspections_updated ON inspections (updated_at, id);

CREATE TABLE inspection_departments (
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    department_id BIGINT NOT NULL REFERENCES departments (id),
    PRIMARY KEY (inspection_id, department_id)
);
CREATE INDEX inspection_departments_department ON inspection_departments (department_id);

-- What an inspection_disturbance issue says about the visit, and what it was matched with.
CREATE TABLE issue_inspections (
    issue_id BIGINT PRIMARY KEY NOT NULL REFERENCES issues (id),
    project_id BIGINT NOT NULL REFERENCES projects (id),
    visiting_department_id BIGINT REFERENCES departments (id),
    visited_on DATE NOT NULL,
    inspection_id BIGINT REFERENCES inspections (id),
    unfiled BOOLEAN NOT NULL
);
CREATE INDEX issue_inspections_unfiled ON issue_inspections (project_id, visited_on) WHERE unfiled;

-- Observers' ratings of an inspection, one each, anonymous: the rater is kept only as a keyed
-- hash (so a second rating is refused), with no id and no time that could tell who rated.
CREATE TABLE inspection_ratings (
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    rater_key TEXT NOT NULL,
    score INTEGER NOT NULL,
    comment TEXT,
    PRIMARY KEY (inspection_id, rater_key)
);

-- Too many inspections of one project unit in a day, a week or a month: one alert for each
-- threshold crossed.
CREATE TABLE inspection_alerts (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    period TEXT NOT NULL,
    period_start DATE NOT NULL,
    inspections BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (project_id, period, period_start)
);
CREATE INDEX inspection_alerts_created ON inspection_alerts (created_at, id);

-- The thresholds, set by supervisors: more than this many in a day, week or month alerts.
CREATE TABLE inspection_limits (
    id BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    per_day BIGINT NOT NULL,
    per_week BIGINT NOT NULL,
    per_month BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO inspection_limits (id, per_day, per_week, per_month, version, updated_at)
VALUES (1, 1, 2, 3, 1, '2026-12-01 00:00:00');
