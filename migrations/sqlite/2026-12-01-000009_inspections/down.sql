DROP TABLE inspection_limits;
DROP TABLE inspection_alerts;
DROP TABLE inspection_ratings;
DROP TABLE issue_inspections;
DROP TABLE inspection_departments;
DROP TABLE inspections;
