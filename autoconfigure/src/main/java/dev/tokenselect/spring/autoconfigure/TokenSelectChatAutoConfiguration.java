package dev.tokenselect.spring.autoconfigure;

import io.micrometer.observation.ObservationRegistry;

import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.spring.ai.chat.TokenSelectChatModel;

/** The Spring AI {@link ChatModel} on the engine; backs off when the application defines its own chat model. */
@AutoConfiguration(after = TokenSelectEngineAutoConfiguration.class)
@ConditionalOnClass({TokenSelectChatModel.class, ChatModel.class})
@ConditionalOnTokenSelectModel
@ConditionalOnBean(InferenceService.class)
@EnableConfigurationProperties(TokenSelectChatProperties.class)
public class TokenSelectChatAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(ChatModel.class)
    public TokenSelectChatModel tokenSelectChatModel(InferenceService service, TokenSelectChatProperties properties,
                                                     ObjectProvider<ObservationRegistry> observationRegistry,
                                                     ObjectProvider<ChatModelObservationConvention> observationConvention) {
        TokenSelectChatModel model = TokenSelectChatModel.builder()
                .service(service)
                .defaultOptions(properties.toOptions())
                .observationRegistry(observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP))
                .build();
        observationConvention.ifAvailable(model::setObservationConvention);
        return model;
    }
}
