/**
 * The PostgreSQL catalog of persisted prefix caches: Flyway migrations and the JDBC implementation
 * of the engine's persistence SPI.
 */
package dev.tokenselect.db;
