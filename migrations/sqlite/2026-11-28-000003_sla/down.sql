DROP TABLE issue_clocks;
DROP TABLE sla_timers;
DROP TABLE business_calendars;
DROP TABLE sla_policies;
