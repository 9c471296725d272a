package dev.tokenselect.spring.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.spring.ai.corpus.CorpusService;

/** The {@link CorpusService} that registers corpora from Spring AI documents, for {@code CorpusAdvisor}. */
@AutoConfiguration(after = TokenSelectEngineAutoConfiguration.class)
@ConditionalOnClass(CorpusService.class)
@ConditionalOnTokenSelectModel
@ConditionalOnBean(InferenceService.class)
public class TokenSelectCorpusAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public CorpusService tokenSelectCorpusService(InferenceService service) {
        return new CorpusService(service);
    }
}
