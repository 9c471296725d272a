package dev.tokenselect.spring.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

import dev.tokenselect.engine.serve.InferenceService;

/** The {@code tokenselect} health indicator, where the application has Spring Boot's health support (actuator). */
@AutoConfiguration(after = TokenSelectEngineAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnTokenSelectModel
@ConditionalOnBean(InferenceService.class)
@ConditionalOnEnabledHealthIndicator("tokenselect")
public class TokenSelectHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "tokenselectHealthIndicator")
    public TokenSelectHealthIndicator tokenselectHealthIndicator(InferenceService service) {
        return new TokenSelectHealthIndicator(service);
    }
}
