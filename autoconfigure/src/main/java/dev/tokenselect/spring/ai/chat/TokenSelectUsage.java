package dev.tokenselect.spring.ai.chat;

import dev.tokenselect.engine.serve.Completion;

/**
 * The native usage of a TokenSelect reply ({@code Usage.getNativeUsage()}): besides the token counts, how much of
 * the prompt came from the prefix cache or a resident corpus, and how fast the reply came.
 *
 * @param cachedPrefixTokens prompt tokens reused from the cache (also {@code Usage.getCacheReadInputTokens()})
 * @param prefilledTokens    prompt tokens run through the model for this reply
 */
public record TokenSelectUsage(int promptTokens, int completionTokens, int cachedPrefixTokens, int prefilledTokens,
                               double timeToFirstTokenMillis, double decodeTokensPerSecond) {

    static TokenSelectUsage of(Completion c) {
        return new TokenSelectUsage(c.promptTokens(), c.result().ids().length, c.cachedPrefixTokens(), c.prefilledTokens(),
                c.result().stats().timeToFirstTokenMillis(), c.result().stats().decodeTokensPerSecond());
    }
}
