CREATE INDEX issues_reporter_id ON issues (reporter_id);
CREATE INDEX issues_project_id ON issues (project_id);
DROP INDEX issues_reporter_newest;
DROP INDEX issues_project_newest;
