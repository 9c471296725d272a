package dev.tokenselect.spring.ai.chat;

import org.springframework.ai.chat.prompt.ChatOptions;

import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.model.GenerationConfig;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/** A request's options against the model's defaults, and what they mean to the engine. */
final class RequestOptions {

    /** Replies stop here when neither the request nor the defaults set max tokens. */
    static final int DEFAULT_MAX_TOKENS = 512;

    private RequestOptions() {
    }

    /**
     * Each option the request sets wins over the default. {@code ChatClient} has merged already; this covers
     * direct {@code call(Prompt)}s with partial or plain {@link ChatOptions}.
     */
    static TokenSelectChatOptions resolve(ChatOptions request, TokenSelectChatOptions defaults) {
        if (request == null) {
            return defaults;
        }
        if (!(request instanceof TokenSelectChatOptions r)) {
            return defaults.mutate().combineWith(request.mutate()).build();
        }
        return TokenSelectChatOptions.builder()
                .model(or(r.getModel(), defaults.getModel()))
                .frequencyPenalty(or(r.getFrequencyPenalty(), defaults.getFrequencyPenalty()))
                .maxTokens(or(r.getMaxTokens(), defaults.getMaxTokens()))
                .presencePenalty(or(r.getPresencePenalty(), defaults.getPresencePenalty()))
                .stopSequences(or(r.getStopSequences(), defaults.getStopSequences()))
                .temperature(or(r.getTemperature(), defaults.getTemperature()))
                .topK(or(r.getTopK(), defaults.getTopK()))
                .topP(or(r.getTopP(), defaults.getTopP()))
                .toolCallbacks(or(r.getToolCallbacks(), defaults.getToolCallbacks()))
                .toolContext(or(r.getToolContext(), defaults.getToolContext()))
                .minP(or(r.getMinP(), defaults.getMinP()))
                .repetitionPenalty(or(r.getRepetitionPenalty(), defaults.getRepetitionPenalty()))
                .seed(or(r.getSeed(), defaults.getSeed()))
                .policy(or(r.getPolicy(), defaults.getPolicy()))
                .k(or(r.getK(), defaults.getK()))
                .nInit(or(r.getNInit(), defaults.getNInit()))
                .nLocal(or(r.getNLocal(), defaults.getNLocal()))
                .theta(or(r.getTheta(), defaults.getTheta()))
                .corpus(or(r.getCorpus(), defaults.getCorpus()))
                .cacheSalt(or(r.getCacheSalt(), defaults.getCacheSalt()))
                .enableThinking(or(r.getEnableThinking(), defaults.getEnableThinking()))
                .build();
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /** Unset sampling options take the checkpoint's recommendation (generation_config.json), then the engine's defaults. */
    static SamplingParams sampling(TokenSelectChatOptions o, GenerationConfig gen) {
        try {
            return SamplingParams.builder()
                    .temperature(or(o.getTemperature(), or(gen.temperature(), 0.0)))
                    .topK(or(o.getTopK(), or(gen.topK(), 0)))
                    .topP(or(o.getTopP(), or(gen.topP(), 1.0)))
                    .minP(or(o.getMinP(), 0.0))
                    .repetitionPenalty(or(o.getRepetitionPenalty(), or(gen.repetitionPenalty(), 1.0)))
                    .frequencyPenalty(or(o.getFrequencyPenalty(), 0.0))
                    .presencePenalty(or(o.getPresencePenalty(), 0.0))
                    .seed(o.getSeed())
                    .maxTokens(or(o.getMaxTokens(), DEFAULT_MAX_TOKENS))
                    .stopStrings(o.getStopSequences())
                    .build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("chat options: " + e.getMessage(), e);
        }
    }

    /**
     * The request's attention: the service's default unless the options name a policy or set a selection parameter
     * (which alone means TokenSelect when the default is full attention); unset parameters keep the default's.
     */
    static AttentionSpec attention(TokenSelectChatOptions o, AttentionSpec defaults, int prefillChunk) {
        boolean tuned = o.getK() != null || o.getNInit() != null || o.getNLocal() != null || o.getTheta() != null;
        if (o.getPolicy() == null && !tuned) {
            return defaults;
        }
        AttentionSpec.Kind kind;
        if (o.getPolicy() != null) {
            kind = AttentionSpec.kind(o.getPolicy());
        } else {
            kind = defaults.kind() == AttentionSpec.Kind.FULL ? AttentionSpec.Kind.TOKENSELECT : defaults.kind();
        }
        if (kind == AttentionSpec.Kind.FULL) {
            return AttentionSpec.full();
        }
        SelectionParams base = defaults.params() != null ? defaults.params()
                : SelectionParams.defaults().withPrefillChunk(Math.min(prefillChunk, SelectionParams.DEFAULT_N_LOCAL));
        int nLocal = or(o.getNLocal(), base.nLocal());
        try {
            SelectionParams params = new SelectionParams(or(o.getK(), base.k()), or(o.getNInit(), base.nInit()), nLocal,
                    or(o.getTheta(), base.theta()), Math.min(base.prefillChunk(), nLocal));
            return new AttentionSpec(kind, params, defaults.pageSize());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("chat options: " + e.getMessage(), e);
        }
    }
}
