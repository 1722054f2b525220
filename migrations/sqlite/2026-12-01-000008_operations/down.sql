DROP INDEX deliveries_dead;
