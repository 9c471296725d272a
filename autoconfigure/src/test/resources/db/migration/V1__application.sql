-- An application's own schema, migrated by its own Flyway with the defaults (db/migration, flyway_schema_history).
CREATE TABLE app_notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL);
