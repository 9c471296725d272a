package dev.tokenselect.spring.autoconfigure;

import javax.sql.DataSource;

import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tokenselect.db.JdbcPrefixStore;
import dev.tokenselect.engine.prefix.PrefixStore;

/** The catalog in the application's database, after the catalog's Flyway migrations. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass({JdbcPrefixStore.class, DataSource.class})
@ConditionalOnBean(DataSource.class)
class JdbcCatalogConfiguration {

    @Bean
    @ConditionalOnMissingBean(PrefixStore.class)
    PrefixStore tokenSelectJdbcPrefixStore(DataSource dataSource) {
        JdbcPrefixStore.migrate(dataSource);
        return new JdbcPrefixStore(dataSource);
    }
}
