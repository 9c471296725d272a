package dev.tokenselect.spring.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.tokenselect.engine.serve.InferenceService;

/** The engine's Micrometer meters, where the application has a {@link MeterRegistry}. */
@AutoConfiguration(after = TokenSelectEngineAutoConfiguration.class, afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnTokenSelectModel
@ConditionalOnBean({MeterRegistry.class, InferenceService.class})
public class TokenSelectMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public TokenSelectMetrics tokenSelectMetrics(InferenceService service, MeterRegistry registry) {
        return new TokenSelectMetrics(service, registry);
    }
}
