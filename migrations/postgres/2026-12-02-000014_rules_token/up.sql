-- One row whose token changes with every change to what filing and the SLA clocks follow:
-- the routing rules, the SLA policies and the business calendars. Each instance holds those
-- as last read (`workflow::rulebook`) and reads only this token in a write transaction to
-- know whether they are still current. Every write to those three tables sets a new random
-- token in the same transaction (`db::rules_token::renew`); a migration that changes them
-- must set one too.
CREATE TABLE rules_token (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token BIGINT NOT NULL
);
INSERT INTO rules_token (id, token) VALUES (1, 0);
