-- Reports: the department each timeline event was addressed to, the working time an issue
-- took to be acknowledged and resolved, and the index the period queries go through.
DROP TRIGGER issue_events_no_update;
ALTER TABLE issue_events ADD COLUMN department_id BIGINT REFERENCES departments (id);
-- The filing time of the event's issue, so that "events on the issues of a period" is a range.
ALTER TABLE issue_events ADD COLUMN issue_created_at TIMESTAMP;
-- Events written before this change: the issue's department now (the best that is known).
UPDATE issue_events SET
    department_id = (SELECT department_id FROM issues WHERE issues.id = issue_events.issue_id),
    issue_created_at = (SELECT created_at FROM issues WHERE issues.id = issue_events.issue_id);
CREATE TRIGGER issue_events_no_update BEFORE UPDATE ON issue_events
BEGIN SELECT RAISE(ABORT, 'issue_events is append-only'); END;
CREATE INDEX issue_events_report ON issue_events (issue_created_at, kind, department_id, issue_id);

ALTER TABLE issues ADD COLUMN ack_work_seconds BIGINT;
ALTER TABLE issues ADD COLUMN resolve_work_seconds BIGINT;
-- The reports read a period of issues by filing time; every column they count is in the
-- index, so a month of a million-issue county is read from the index alone.
CREATE INDEX issues_report ON issues (created_at, department_id, project_id, status,
    acknowledged_at, ack_due_at, resolved_at, resolve_due_at, reopen_count, rating, overdue,
    ack_work_seconds, resolve_work_seconds);
CREATE INDEX issues_open_overdue ON issues (overdue, status);
CREATE INDEX issue_events_actor ON issue_events (actor_id, at);

-- The same for the departments an issue reached: "received in a period" is a range.
ALTER TABLE issue_departments ADD COLUMN issue_created_at TIMESTAMP;
UPDATE issue_departments SET issue_created_at = (SELECT created_at FROM issues WHERE issues.id = issue_departments.issue_id);
CREATE INDEX issue_departments_report ON issue_departments (issue_created_at, department_id);
