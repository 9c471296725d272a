package dev.tokenselect.sample.chat;

import java.util.Map;

import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatResponse;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.tokenselect.spring.ai.chat.TokenSelectChatModel;
import dev.tokenselect.spring.ai.chat.TokenSelectUsage;

/**
 * What the chat page shows under an answer, from the last streamed response's usage and metadata plus the times
 * measured here.
 *
 * @param timeToFirstTokenMs       from the request's arrival to the first text sent, as the user waits for it
 * @param prefillMs                the engine's time to the first token (the prompt's prefill) once the request ran
 * @param tokensPerSecond          decode speed after the first token
 * @param promptTokens             tokens of the whole prompt, corpus included
 * @param cachedTokens             prompt tokens that came from the resident corpus or the prefix cache
 * @param prefilledTokens          prompt tokens run through the model for this answer
 * @param attendedTokensPerStep    KV tokens each decode step attended to (TokenSelect's selection, sinks and window)
 * @param contextTokensPerStep     KV tokens each decode step could have attended to
 * @param selectedTokensPerStep    tokens TokenSelect chose per step where it selected (0: the context fit the budget)
 * @param selectionCacheHitRate    share of decode steps that reused the previous selection
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChatStats(double timeToFirstTokenMs, double totalMs, double prefillMs, double tokensPerSecond,
                        int promptTokens, long cachedTokens, int prefilledTokens, int completionTokens,
                        double attendedTokensPerStep, double contextTokensPerStep, double selectedTokensPerStep,
                        double selectionCacheHitRate, String finishReason, String corpus) {

    static ChatStats of(ChatResponse last, long startNanos, long firstTextNanos, long endNanos) {
        Usage usage = last.getMetadata().getUsage();
        TokenSelectUsage ts = usage.getNativeUsage() instanceof TokenSelectUsage u ? u : null;
        Map<String, Object> attention = last.getMetadata().get(TokenSelectChatModel.ATTENTION);
        long first = firstTextNanos > 0 ? firstTextNanos : endNanos;
        return new ChatStats(
                round((first - startNanos) / 1e6),
                round((endNanos - startNanos) / 1e6),
                ts == null ? 0 : round(ts.timeToFirstTokenMillis()),
                ts == null ? 0 : round(ts.decodeTokensPerSecond()),
                usage.getPromptTokens() == null ? 0 : usage.getPromptTokens(),
                usage.getCacheReadInputTokens() == null ? 0 : usage.getCacheReadInputTokens(),
                ts == null ? 0 : ts.prefilledTokens(),
                usage.getCompletionTokens() == null ? 0 : usage.getCompletionTokens(),
                number(attention, "mean_decode_attended_tokens"),
                number(attention, "mean_decode_context_tokens"),
                number(attention, "mean_selected_tokens"),
                number(attention, "cache_hit_rate"),
                last.getResult() == null ? null : last.getResult().getMetadata().getFinishReason(),
                last.getMetadata().get(TokenSelectChatModel.CORPUS));
    }

    private static double number(Map<String, Object> m, String key) {
        return m != null && m.get(key) instanceof Number n ? n.doubleValue() : 0;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
