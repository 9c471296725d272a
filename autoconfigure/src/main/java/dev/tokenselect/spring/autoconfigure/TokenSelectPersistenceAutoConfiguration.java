package dev.tokenselect.spring.autoconfigure;

import javax.sql.DataSource;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.prefix.PersistentPrefixes;
import dev.tokenselect.engine.prefix.PrefixStore;

/**
 * Persisted corpora: KV segments under {@code cache-dir}, catalogued in PostgreSQL when the application has a
 * {@link DataSource} (the catalog's Flyway migrations run first), else in a file catalog beside the segments.
 */
@AutoConfiguration(afterName = "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration")
@ConditionalOnClass(Engine.class)
@ConditionalOnTokenSelectModel
@ConditionalOnProperty(prefix = TokenSelectProperties.PREFIX + ".persistence", name = "enabled", havingValue = "true",
        matchIfMissing = true)
@EnableConfigurationProperties(TokenSelectProperties.class)
// in this order: the file catalog only where no JDBC catalog was made
@Import({JdbcCatalogConfiguration.class, FileCatalogConfiguration.class})
public class TokenSelectPersistenceAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(PrefixStore.class)
    public PersistentPrefixes tokenSelectPersistentPrefixes(PrefixStore store, TokenSelectProperties properties) {
        return new PersistentPrefixes(properties.getCacheDir(), store,
                PersistentPrefixes.Options.defaults().withMaxBytes(properties.getPersistence().getMaxBytes()));
    }
}
