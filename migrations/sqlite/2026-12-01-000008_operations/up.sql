-- The outbox's dead letters, counted for /metrics without reading every delivery.
CREATE INDEX deliveries_dead ON deliveries (id) WHERE state = 'dead';
