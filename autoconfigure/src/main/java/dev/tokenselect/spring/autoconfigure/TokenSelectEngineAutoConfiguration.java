package dev.tokenselect.spring.autoconfigure;

import java.nio.file.Path;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.hub.HubClient;
import dev.tokenselect.engine.prefix.CorpusPrompts;
import dev.tokenselect.engine.prefix.PersistentPrefixes;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.serve.InferenceService;

/**
 * The engine: the model (a directory, or a Hugging Face repo id resolved into the Hugging Face cache), a backend,
 * and the batching {@link InferenceService} that every chat request and corpus goes through.
 */
@AutoConfiguration(after = TokenSelectPersistenceAutoConfiguration.class)
@ConditionalOnClass(Engine.class)
@ConditionalOnTokenSelectModel
@EnableConfigurationProperties(TokenSelectProperties.class)
public class TokenSelectEngineAutoConfiguration {

    /** Reads HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE as huggingface_hub does. */
    @Bean
    @ConditionalOnMissingBean
    public HubClient tokenSelectHubClient() {
        return HubClient.fromEnvironment();
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Engine tokenSelectEngine(TokenSelectProperties properties, HubClient hub) {
        Path dir = hub.resolve(properties.getModel(), properties.getRevision());
        return Engine.open(dir, new EngineOptions(properties.getBackend(), properties.getDevice(), properties.getThreads(),
                properties.getKvCapacityTokens(), properties.getBlockSize(), properties.getKvMemoryFraction(),
                properties.isKeySketches(), EngineOptions.gibBytes(properties.getKvHostGib())));
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public InferenceService tokenSelectInferenceService(Engine engine, TokenSelectProperties properties,
                                                        ObjectProvider<PersistentPrefixes> persistence) {
        return new InferenceService(engine, persistence.getIfAvailable(), new InferenceService.Options(
                attention(properties), properties.getPrefillChunk(), properties.getMaxBatch(),
                properties.getHostCacheBytes(), corpusTurn(properties)));
    }

    static CorpusPrompts.Turn corpusTurn(TokenSelectProperties p) {
        try {
            return CorpusPrompts.Turn.of(p.getCorpusTurn());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(TokenSelectProperties.PREFIX + ".corpus-turn: " + e.getMessage()
                    + "; set it to system or user", e);
        }
    }

    static AttentionSpec attention(TokenSelectProperties p) {
        AttentionSpec.Kind kind = AttentionSpec.kind(p.getPolicy());
        if (kind == AttentionSpec.Kind.FULL) {
            return AttentionSpec.full();
        }
        try {
            return new AttentionSpec(kind, new SelectionParams(p.getK(), p.getNInit(), p.getNLocal(), p.getTheta(),
                    Math.min(p.getPrefillChunk(), p.getNLocal())).withInt8Keys(p.isKeySketches()), p.getPageSize());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(TokenSelectProperties.PREFIX + ": " + e.getMessage(), e);
        }
    }
}
