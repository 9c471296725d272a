package dev.tokenselect.spring.autoconfigure;

import javax.sql.DataSource;

import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tokenselect.db.JdbcPrefixStore;
import dev.tokenselect.engine.prefix.PrefixStore;

/**
 * The catalog in the application's database, after the catalog's Flyway migrations, which run once the
 * application's own database initialization (Spring Boot's Flyway or Liquibase) is done: that one finds the schema
 * as the application left it, not with the catalog's tables in it.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass({JdbcPrefixStore.class, DataSource.class})
@ConditionalOnBean(DataSource.class)
class JdbcCatalogConfiguration {

    @Bean
    @ConditionalOnMissingBean(PrefixStore.class)
    @DependsOnDatabaseInitialization
    PrefixStore tokenSelectJdbcPrefixStore(DataSource dataSource) {
        JdbcPrefixStore.migrate(dataSource);
        return new JdbcPrefixStore(dataSource);
    }
}
