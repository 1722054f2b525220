-- An observer's list, newest first, read from two indexes in order: their own issues, and each
-- followed project's issues, each source stopping after a page, instead of every issue they
-- can see gathered and sorted (or every issue walked for the few they can see).
CREATE INDEX issues_reporter_newest ON issues (reporter_id, id);
CREATE INDEX issues_project_newest ON issues (project_id, id);
DROP INDEX issues_reporter_id;
DROP INDEX issues_project_id;
