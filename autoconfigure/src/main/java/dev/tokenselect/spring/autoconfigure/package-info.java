/**
 * Spring Boot auto-configuration of the TokenSelect engine: the {@code ChatModel}, the corpus service, persistence
 * (PostgreSQL catalog or files), health and metrics, each under its own condition.
 */
package dev.tokenselect.spring.autoconfigure;
