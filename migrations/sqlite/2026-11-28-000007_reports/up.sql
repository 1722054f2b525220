-- Reports: the department each timeline event was addressed to, the working time an issue
-- took to be acknowledged and resolved, and the index the period queries go through.
DROP TRIGGER issue_events_no_update;
ALTER TABLE issue_events ADD COLUMN department_id BIGINT REFERENCES departments (id);
-- Events written before this change: the issue's department now (the best that is known).
UPDATE issue_events SET department_id = (SELECT department_id FROM issues WHERE issues.id = issue_events.issue_id);
CREATE TRIGGER issue_events_no_update BEFORE UPDATE ON issue_events
BEGIN SELECT RAISE(ABORT, 'issue_events is append-only'); END;
CREATE INDEX issue_events_department ON issue_events (department_id, kind);

ALTER TABLE issues ADD COLUMN ack_work_seconds BIGINT;
ALTER TABLE issues ADD COLUMN resolve_work_seconds BIGINT;
-- The reports read a period of issues by filing time; every column they count is in the
-- index, so a month of a million-issue county is read from the index alone.
CREATE INDEX issues_report ON issues (created_at, department_id, project_id, status,
    acknowledged_at, ack_due_at, resolved_at, resolve_due_at, reopen_count, rating, overdue,
    ack_work_seconds, resolve_work_seconds);
CREATE INDEX issues_open_overdue ON issues (overdue, status);
CREATE INDEX issue_events_actor ON issue_events (actor_id, at);
