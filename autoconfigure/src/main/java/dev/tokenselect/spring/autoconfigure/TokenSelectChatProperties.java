package dev.tokenselect.spring.autoconfigure;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;

/** Default options of the chat model; every request may override them. Unset options take the checkpoint's recommendation. */
@ConfigurationProperties(TokenSelectChatProperties.PREFIX)
public class TokenSelectChatProperties {

    public static final String PREFIX = "spring.ai.tokenselect.chat";

    @NestedConfigurationProperty
    private final Options options = new Options();

    public Options getOptions() {
        return options;
    }

    public TokenSelectChatOptions toOptions() {
        Options o = options;
        return TokenSelectChatOptions.builder()
                .temperature(o.temperature).topP(o.topP).topK(o.topK).maxTokens(o.maxTokens)
                .stopSequences(o.stopSequences).frequencyPenalty(o.frequencyPenalty).presencePenalty(o.presencePenalty)
                .minP(o.minP).repetitionPenalty(o.repetitionPenalty).seed(o.seed).policy(o.policy).k(o.k)
                .nInit(o.nInit).nLocal(o.nLocal).theta(o.theta).enableThinking(o.enableThinking)
                .build();
    }

    /** The chat options a property can set. */
    public static class Options {

        /** Sampling temperature; 0 is greedy. */
        private Double temperature;

        /** Nucleus sampling: the smallest set of tokens whose probability reaches this. */
        private Double topP;

        /** Only the k most likely tokens are sampled; 0 disables. */
        private Integer topK;

        /** Tokens below this share of the best token's probability are dropped. */
        private Double minP;

        /** Most tokens of a reply (512 when unset). */
        private Integer maxTokens;

        /** The reply ends before the first of these. */
        private List<String> stopSequences;

        /** Subtracted from a token's logit once per time it was generated. */
        private Double frequencyPenalty;

        /** Subtracted from a token's logit once if it was generated at all. */
        private Double presencePenalty;

        /** transformers' repetition penalty over prompt and reply; 1 disables. */
        private Double repetitionPenalty;

        /** Seed of the sampler. */
        private Long seed;

        /** Attention policy of requests: full, tokenselect, streaming or page (the engine's default when unset). */
        private String policy;

        /** TokenSelect's selection budget of requests. */
        private Integer k;

        /** Attention-sink tokens of requests. */
        private Integer nInit;

        /** Recent-window tokens of requests. */
        private Integer nLocal;

        /** Selection-cache threshold of requests. */
        private Double theta;

        /** The chat template's enable_thinking (Qwen3); the template's default when unset. */
        private Boolean enableThinking;

        public Double getTemperature() {
            return temperature;
        }

        public void setTemperature(Double temperature) {
            this.temperature = temperature;
        }

        public Double getTopP() {
            return topP;
        }

        public void setTopP(Double topP) {
            this.topP = topP;
        }

        public Integer getTopK() {
            return topK;
        }

        public void setTopK(Integer topK) {
            this.topK = topK;
        }

        public Double getMinP() {
            return minP;
        }

        public void setMinP(Double minP) {
            this.minP = minP;
        }

        public Integer getMaxTokens() {
            return maxTokens;
        }

        public void setMaxTokens(Integer maxTokens) {
            this.maxTokens = maxTokens;
        }

        public List<String> getStopSequences() {
            return stopSequences;
        }

        public void setStopSequences(List<String> stopSequences) {
            this.stopSequences = stopSequences;
        }

        public Double getFrequencyPenalty() {
            return frequencyPenalty;
        }

        public void setFrequencyPenalty(Double frequencyPenalty) {
            this.frequencyPenalty = frequencyPenalty;
        }

        public Double getPresencePenalty() {
            return presencePenalty;
        }

        public void setPresencePenalty(Double presencePenalty) {
            this.presencePenalty = presencePenalty;
        }

        public Double getRepetitionPenalty() {
            return repetitionPenalty;
        }

        public void setRepetitionPenalty(Double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
        }

        public Long getSeed() {
            return seed;
        }

        public void setSeed(Long seed) {
            this.seed = seed;
        }

        public String getPolicy() {
            return policy;
        }

        public void setPolicy(String policy) {
            this.policy = policy;
        }

        public Integer getK() {
            return k;
        }

        public void setK(Integer k) {
            this.k = k;
        }

        public Integer getNInit() {
            return nInit;
        }

        public void setNInit(Integer nInit) {
            this.nInit = nInit;
        }

        public Integer getNLocal() {
            return nLocal;
        }

        public void setNLocal(Integer nLocal) {
            this.nLocal = nLocal;
        }

        public Double getTheta() {
            return theta;
        }

        public void setTheta(Double theta) {
            this.theta = theta;
        }

        public Boolean getEnableThinking() {
            return enableThinking;
        }

        public void setEnableThinking(Boolean enableThinking) {
            this.enableThinking = enableThinking;
        }
    }
}
