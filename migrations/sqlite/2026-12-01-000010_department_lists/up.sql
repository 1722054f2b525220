-- A department's list of issues, newest first, read from the index in order: the clerk's page
-- of 50 stops after 50 entries instead of gathering every issue the department ever had.
CREATE INDEX issue_departments_department_issue ON issue_departments (department_id, issue_id);
DROP INDEX issue_departments_department_id;
