package dev.tokenselect.engine.generate;

import java.util.Arrays;
import java.util.Set;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Candidates;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.tokenizer.IncrementalDetokenizer;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * One request's state between forward passes: sampling, stop conditions and streamed text. Whoever
 * runs the model (a single loop or a batching scheduler) feeds it each step's logits.
 */
final class GenerationRun {

    private final SamplingParams params;
    private final Set<Integer> eosIds;
    private final TokenListener listener;
    private final Sampler sampler;
    private final IncrementalDetokenizer detokenizer;
    private final StopStringMatcher stops;
    private final int[] history;
    private final int[] generated;
    private final int promptLength;
    private int historyLength;
    private int count;
    private FinishReason finish;
    private long prefillNanos;
    private long decodeStart;

    GenerationRun(int[] prompt, SamplingParams params, Set<Integer> eosIds, Tokenizer tokenizer, TokenListener listener) {
        this.params = params;
        this.eosIds = eosIds;
        this.listener = listener;
        this.sampler = new Sampler(params);
        this.detokenizer = tokenizer == null ? null : tokenizer.newIncrementalDetokenizer(true);
        this.stops = new StopStringMatcher(params.stopStrings());
        this.history = Arrays.copyOf(prompt, prompt.length + params.maxTokens());
        this.historyLength = prompt.length;
        this.promptLength = prompt.length;
        this.generated = new int[params.maxTokens()];
        if (params.maxTokens() == 0) {
            finish = FinishReason.LENGTH;
        }
    }

    /** Checks a prompt before any forward pass. */
    static void validate(int[] prompt, int vocab) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token");
        }
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt token id " + id + " is outside the model's vocabulary of "
                        + vocab);
            }
        }
    }

    void prefilled(long nanos) {
        prefillNanos = nanos;
        decodeStart = System.nanoTime();
    }

    boolean finished() {
        return finish != null;
    }

    /** The token whose logits the next forward pass must produce. */
    int lastToken() {
        return generated[count - 1];
    }

    /** Samples from a step's logits; true when the generation has ended. */
    boolean accept(float[] logits) {
        return acceptToken(sampler.sample(logits, history, historyLength, promptLength));
    }

    /**
     * How many of a step's best candidates the next token needs (0: the whole logits row): 1 for a
     * plain greedy run, top-k for sampling bounded by it (see {@link Sampler#candidatesSuffice}).
     */
    int candidatesNeeded(int vocab) {
        return sampler.argmaxSuffices() ? 1 : sampler.candidatesSuffice(vocab);
    }

    /** Takes the next token from a step's candidates; true when the generation has ended. */
    boolean accept(Candidates candidates) {
        return acceptToken(sampler.sample(candidates));
    }

    /** True when the next token is the argmax of the logits, so a step may return that alone. */
    boolean argmaxSuffices() {
        return sampler.argmaxSuffices();
    }

    /**
     * Takes the next token as a backend's argmax gave it (see {@link #argmaxSuffices()}); true when the
     * generation has ended.
     */
    boolean acceptToken(int next) {
        generated[count++] = next;
        history[historyLength++] = next;
        listener.onToken(next);
        if (!params.ignoreEos() && eosIds.contains(next)) {
            finish = FinishReason.EOS;
        } else if (detokenizer != null) {
            String delta = stops.push(detokenizer.accept(next));
            if (!delta.isEmpty()) {
                listener.onText(delta);
            }
            if (stops.stopped()) {
                finish = FinishReason.STOP_STRING;
            }
        }
        if (finish == null && count == params.maxTokens()) {
            finish = FinishReason.LENGTH;
        }
        return finish != null;
    }

    GenerationResult result(Backend backend, Sequence seq) {
        long decodeNanos = count > 1 ? System.nanoTime() - decodeStart : 0;
        if (detokenizer != null && !stops.stopped()) {
            String tail = stops.push(detokenizer.flush()) + stops.flush();
            if (!tail.isEmpty()) {
                listener.onText(tail);
            }
        }
        GenerationStats stats = new GenerationStats(promptLength, count, prefillNanos, decodeNanos, backend.name(),
                backend.device(), seq.length(), seq.selectionStats().toMap());
        return new GenerationResult(Arrays.copyOf(generated, count), detokenizer == null ? "" : stops.text(),
                finish == null ? FinishReason.LENGTH : finish, stats);
    }
}
