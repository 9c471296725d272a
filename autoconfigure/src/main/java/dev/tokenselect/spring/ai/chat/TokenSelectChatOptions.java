package dev.tokenselect.spring.ai.chat;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.jspecify.annotations.Nullable;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.DefaultToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;

/**
 * Options of {@link TokenSelectChatModel}: the standard sampling options, TokenSelect's attention options, the
 * corpus a request continues, and tools. Every field is optional; an unset field takes the model's default.
 * {@link Builder#combineWith} carries all of them, so {@code ChatClient}'s merge of default and request options
 * keeps ours.
 */
public final class TokenSelectChatOptions implements ToolCallingChatOptions {

    private final @Nullable String model;
    private final @Nullable Double frequencyPenalty;
    private final @Nullable Integer maxTokens;
    private final @Nullable Double presencePenalty;
    private final @Nullable List<String> stopSequences;
    private final @Nullable Double temperature;
    private final @Nullable Integer topK;
    private final @Nullable Double topP;
    private final @Nullable Double minP;
    private final @Nullable Double repetitionPenalty;
    private final @Nullable Long seed;
    private final @Nullable String policy;
    private final @Nullable Integer k;
    private final @Nullable Integer nInit;
    private final @Nullable Integer nLocal;
    private final @Nullable Double theta;
    private final @Nullable String corpus;
    private final @Nullable String cacheSalt;
    private final @Nullable Boolean enableThinking;
    private final @Nullable List<ToolCallback> toolCallbacks;
    private final @Nullable Map<String, Object> toolContext;

    private TokenSelectChatOptions(AbstractBuilder<?> b, @Nullable String model, @Nullable Double frequencyPenalty,
                                   @Nullable Integer maxTokens, @Nullable Double presencePenalty,
                                   @Nullable List<String> stopSequences, @Nullable Double temperature,
                                   @Nullable Integer topK, @Nullable Double topP,
                                   @Nullable List<ToolCallback> toolCallbacks, @Nullable Map<String, Object> toolContext) {
        this.model = model;
        this.frequencyPenalty = frequencyPenalty;
        this.maxTokens = maxTokens;
        this.presencePenalty = presencePenalty;
        this.stopSequences = stopSequences == null ? null : List.copyOf(stopSequences);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.minP = b.minP;
        this.repetitionPenalty = b.repetitionPenalty;
        this.seed = b.seed;
        this.policy = b.policy;
        this.k = b.k;
        this.nInit = b.nInit;
        this.nLocal = b.nLocal;
        this.theta = b.theta;
        this.corpus = b.corpus;
        this.cacheSalt = b.cacheSalt;
        this.enableThinking = b.enableThinking;
        this.toolCallbacks = toolCallbacks == null ? null : List.copyOf(toolCallbacks);
        this.toolContext = toolContext == null ? null : Map.copyOf(toolContext);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public @Nullable String getModel() {
        return model;
    }

    @Override
    public @Nullable Double getFrequencyPenalty() {
        return frequencyPenalty;
    }

    @Override
    public @Nullable Integer getMaxTokens() {
        return maxTokens;
    }

    @Override
    public @Nullable Double getPresencePenalty() {
        return presencePenalty;
    }

    @Override
    public @Nullable List<String> getStopSequences() {
        return stopSequences;
    }

    @Override
    public @Nullable Double getTemperature() {
        return temperature;
    }

    @Override
    public @Nullable Integer getTopK() {
        return topK;
    }

    @Override
    public @Nullable Double getTopP() {
        return topP;
    }

    /** Tokens below this share of the best token's probability are dropped. */
    public @Nullable Double getMinP() {
        return minP;
    }

    /** transformers' repetition penalty over prompt and output (1 disables). */
    public @Nullable Double getRepetitionPenalty() {
        return repetitionPenalty;
    }

    /** Seed of the sampler: the same seed, prompt and options give the same tokens. */
    public @Nullable Long getSeed() {
        return seed;
    }

    /** Attention policy: {@code full}, {@code tokenselect}, {@code streaming} (sinks and window) or {@code page}. */
    public @Nullable String getPolicy() {
        return policy;
    }

    /** TokenSelect's selection budget: cached tokens chosen per layer besides sinks and window. */
    public @Nullable Integer getK() {
        return k;
    }

    /** Attention-sink tokens always attended. */
    public @Nullable Integer getNInit() {
        return nInit;
    }

    /** Most recent tokens always attended. */
    public @Nullable Integer getNLocal() {
        return nLocal;
    }

    /** Selection-cache threshold: a decode step reuses the last selection while its query's cosine stays at or above it. */
    public @Nullable Double getTheta() {
        return theta;
    }

    /** The registered corpus this request continues (set by {@code CorpusAdvisor}). */
    public @Nullable String getCorpus() {
        return corpus;
    }

    /**
     * The request's cache salt (a tenant, say): part of every block hash, so its prompt shares cached
     * prefixes only with requests of the same salt. Unset shares with every unsalted request.
     */
    public @Nullable String getCacheSalt() {
        return cacheSalt;
    }

    /** The chat template's {@code enable_thinking} (Qwen3); unset leaves the template's default. */
    public @Nullable Boolean getEnableThinking() {
        return enableThinking;
    }

    @Override
    public @Nullable List<ToolCallback> getToolCallbacks() {
        return toolCallbacks;
    }

    @Override
    public @Nullable Map<String, Object> getToolContext() {
        return toolContext;
    }

    @Override
    public Builder mutate() {
        Builder b = builder().model(model).frequencyPenalty(frequencyPenalty).maxTokens(maxTokens)
                .presencePenalty(presencePenalty).stopSequences(stopSequences).temperature(temperature).topK(topK)
                .topP(topP).toolCallbacks(toolCallbacks).toolContext(toolContext);
        return b.minP(minP).repetitionPenalty(repetitionPenalty).seed(seed).policy(policy).k(k).nInit(nInit)
                .nLocal(nLocal).theta(theta).corpus(corpus).cacheSalt(cacheSalt).enableThinking(enableThinking);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TokenSelectChatOptions that)) {
            return false;
        }
        return Objects.equals(model, that.model) && Objects.equals(frequencyPenalty, that.frequencyPenalty)
                && Objects.equals(maxTokens, that.maxTokens) && Objects.equals(presencePenalty, that.presencePenalty)
                && Objects.equals(stopSequences, that.stopSequences) && Objects.equals(temperature, that.temperature)
                && Objects.equals(topK, that.topK) && Objects.equals(topP, that.topP) && Objects.equals(minP, that.minP)
                && Objects.equals(repetitionPenalty, that.repetitionPenalty) && Objects.equals(seed, that.seed)
                && Objects.equals(policy, that.policy) && Objects.equals(k, that.k) && Objects.equals(nInit, that.nInit)
                && Objects.equals(nLocal, that.nLocal) && Objects.equals(theta, that.theta)
                && Objects.equals(corpus, that.corpus) && Objects.equals(cacheSalt, that.cacheSalt)
                && Objects.equals(enableThinking, that.enableThinking)
                && Objects.equals(toolCallbacks, that.toolCallbacks) && Objects.equals(toolContext, that.toolContext);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, frequencyPenalty, maxTokens, presencePenalty, stopSequences, temperature, topK, topP,
                minP, repetitionPenalty, seed, policy, k, nInit, nLocal, theta, corpus, cacheSalt, enableThinking, toolCallbacks,
                toolContext);
    }

    @Override
    public String toString() {
        return "TokenSelectChatOptions{model=" + model + ", temperature=" + temperature + ", topK=" + topK + ", topP=" + topP
                + ", minP=" + minP + ", maxTokens=" + maxTokens + ", stop=" + stopSequences + ", frequencyPenalty="
                + frequencyPenalty + ", presencePenalty=" + presencePenalty + ", repetitionPenalty=" + repetitionPenalty
                + ", seed=" + seed + ", policy=" + policy + ", k=" + k + ", nInit=" + nInit + ", nLocal=" + nLocal
                + ", theta=" + theta + ", corpus=" + corpus + ", cacheSalt=" + cacheSalt + ", enableThinking=" + enableThinking + ", tools="
                + (toolCallbacks == null ? 0 : toolCallbacks.size()) + "}";
    }

    /** The public builder, free of generic parameters. */
    public static final class Builder extends AbstractBuilder<Builder> {
    }

    /** Carries the standard and tool options of Spring AI's builder and ours. */
    public abstract static class AbstractBuilder<B extends AbstractBuilder<B>> extends DefaultToolCallingChatOptions.Builder<B> {

        private @Nullable Double minP;
        private @Nullable Double repetitionPenalty;
        private @Nullable Long seed;
        private @Nullable String policy;
        private @Nullable Integer k;
        private @Nullable Integer nInit;
        private @Nullable Integer nLocal;
        private @Nullable Double theta;
        private @Nullable String corpus;
        private @Nullable String cacheSalt;
        private @Nullable Boolean enableThinking;

        public B minP(@Nullable Double v) {
            minP = v;
            return self();
        }

        public B repetitionPenalty(@Nullable Double v) {
            repetitionPenalty = v;
            return self();
        }

        public B seed(@Nullable Long v) {
            seed = v;
            return self();
        }

        public B policy(@Nullable String v) {
            policy = v;
            return self();
        }

        public B k(@Nullable Integer v) {
            k = v;
            return self();
        }

        public B nInit(@Nullable Integer v) {
            nInit = v;
            return self();
        }

        public B nLocal(@Nullable Integer v) {
            nLocal = v;
            return self();
        }

        public B theta(@Nullable Double v) {
            theta = v;
            return self();
        }

        public B corpus(@Nullable String v) {
            corpus = v;
            return self();
        }

        public B cacheSalt(@Nullable String v) {
            cacheSalt = v;
            return self();
        }

        public B enableThinking(@Nullable Boolean v) {
            enableThinking = v;
            return self();
        }

        /** Spring AI's merge, plus our fields: each set field of {@code other} wins. */
        @Override
        public B combineWith(ChatOptions.Builder<?> other) {
            super.combineWith(other);
            if (other instanceof AbstractBuilder<?> that) {
                minP = that.minP != null ? that.minP : minP;
                repetitionPenalty = that.repetitionPenalty != null ? that.repetitionPenalty : repetitionPenalty;
                seed = that.seed != null ? that.seed : seed;
                policy = that.policy != null ? that.policy : policy;
                k = that.k != null ? that.k : k;
                nInit = that.nInit != null ? that.nInit : nInit;
                nLocal = that.nLocal != null ? that.nLocal : nLocal;
                theta = that.theta != null ? that.theta : theta;
                corpus = that.corpus != null ? that.corpus : corpus;
                cacheSalt = that.cacheSalt != null ? that.cacheSalt : cacheSalt;
                enableThinking = that.enableThinking != null ? that.enableThinking : enableThinking;
            }
            return self();
        }

        @Override
        public TokenSelectChatOptions build() {
            return new TokenSelectChatOptions(this, model, frequencyPenalty, maxTokens, presencePenalty, stopSequences,
                    temperature, topK, topP, toolCallbacks, toolContext);
        }
    }
}
