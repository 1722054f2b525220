CREATE INDEX issues_updated ON issues (updated_at);
