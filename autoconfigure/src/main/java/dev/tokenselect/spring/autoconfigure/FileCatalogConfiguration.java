package dev.tokenselect.spring.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tokenselect.engine.prefix.FilePrefixStore;
import dev.tokenselect.engine.prefix.PrefixStore;

/** Without a database: the catalog is a file beside the persisted segments. */
@Configuration(proxyBeanMethods = false)
class FileCatalogConfiguration {

    @Bean
    @ConditionalOnMissingBean(PrefixStore.class)
    PrefixStore tokenSelectFilePrefixStore(TokenSelectProperties properties) {
        return new FilePrefixStore(properties.getCacheDir());
    }
}
