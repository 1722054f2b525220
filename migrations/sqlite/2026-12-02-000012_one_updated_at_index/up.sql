-- `issues_updated` (the mobile sync's) repeated `issues_updated_at` column for column: one
-- index on `updated_at` serves both, and every filing and every change of an issue
-- maintained the two.
DROP INDEX issues_updated;
