DROP INDEX issue_events_actor;
DROP INDEX issues_open_overdue;
DROP INDEX issues_report;
ALTER TABLE issues DROP COLUMN resolve_work_seconds;
ALTER TABLE issues DROP COLUMN ack_work_seconds;
DROP INDEX issue_events_department;
ALTER TABLE issue_events DROP COLUMN department_id;
