package dev.tokenselect.engine.serve;

import java.util.Objects;

import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * One generation for {@link InferenceService}.
 *
 * @param prompt    the whole prompt's token ids; for a corpus request it starts with the corpus
 *                  ({@code CorpusPrompts.conversationTokens})
 * @param corpus    the resident corpus the prompt continues, or null
 * @param attention null for the service's default
 * @param salt      cache salt (tenant) of an ordinary prompt: prefixes under different salts are never shared;
 *                  null or empty for none
 */
public record InferenceRequest(int[] prompt, String corpus, AttentionSpec attention, SamplingParams params, String salt) {

    public InferenceRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(params, "params");
        salt = salt == null ? "" : salt;
    }

    public static InferenceRequest of(int[] prompt, SamplingParams params) {
        return new InferenceRequest(prompt, null, null, params, null);
    }

    public InferenceRequest withCorpus(String name) {
        return new InferenceRequest(prompt, name, attention, params, salt);
    }

    public InferenceRequest withAttention(AttentionSpec spec) {
        return new InferenceRequest(prompt, corpus, spec, params, salt);
    }
}
