package dev.tokenselect.engine.generate;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * The prefill-then-decode loop of one request: chunked prefill of the prompt, then one forward step
 * per token, sampling, stop conditions and streamed text.
 */
public final class Generator {

    /** Prompt tokens per forward call; bounds the activation memory of a long prefill. */
    public static final int DEFAULT_PREFILL_CHUNK = 512;
    /** Prompts at least this long log their prefill progress. */
    static final int PROGRESS_MIN_TOKENS = 8192;
    private static final System.Logger LOG = System.getLogger(Generator.class.getName());

    private final Backend backend;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds;
    private final int prefillChunk;

    public Generator(Backend backend, Tokenizer tokenizer, Set<Integer> eosIds, int prefillChunk) {
        if (prefillChunk <= 0) {
            throw new IllegalArgumentException("prefill chunk must be positive, was " + prefillChunk);
        }
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.eosIds = Set.copyOf(eosIds);
        this.prefillChunk = prefillChunk;
    }

    public Generator(Backend backend, Tokenizer tokenizer, Set<Integer> eosIds) {
        this(backend, tokenizer, eosIds, DEFAULT_PREFILL_CHUNK);
    }

    public GenerationResult generate(int[] prompt, SamplingParams params, TokenListener listener) {
        return generate(AttentionSpec.full(), prompt, params, listener);
    }

    public GenerationResult generate(AttentionSpec attention, int[] prompt, SamplingParams params,
                                     TokenListener listener) {
        try (Sequence seq = backend.newSequence(attention)) {
            return generate(seq, prompt, params, listener);
        }
    }

    /** Generates on a sequence that may already hold a cached prefix; the prompt is appended to it. */
    public GenerationResult generate(Sequence seq, int[] prompt, SamplingParams params, TokenListener listener) {
        GenerationRun.validate(prompt, backend.config().vocabSize());
        GenerationRun run = new GenerationRun(prompt, params, eosIds, tokenizer, listener);
        long start = System.nanoTime();
        float[] logits = prefill(seq, prompt);
        run.prefilled(System.nanoTime() - start);
        boolean done = run.finished() || run.accept(logits);
        while (!done) { // greedy steps take the backend's argmax, top-k sampling its k best: not the whole row
            done = DecodeStep.run(backend, List.of(seq), new int[] {run.lastToken()}, List.of(run)).accept(0, run);
        }
        return run.result(backend, seq);
    }

    /** Runs the prompt in chunks and returns the last position's logits; long prompts log their progress. */
    public float[] prefill(Sequence seq, int[] prompt) {
        return prefill(seq, prompt, PrefillListener.NONE);
    }

    /** As {@link #prefill(Sequence, int[])}, telling {@code listener} after each chunk. */
    public float[] prefill(Sequence seq, int[] prompt, PrefillListener listener) {
        float[] logits = null;
        int chunk = Math.min(prefillChunk, seq.maxChunk());
        long start = System.nanoTime();
        int reportEvery = Math.max(chunk, prompt.length / 10);
        int nextReport = reportEvery;
        for (int from = 0; from < prompt.length; from += chunk) {
            int to = Math.min(prompt.length, from + chunk);
            logits = backend.forward(seq, Arrays.copyOfRange(prompt, from, to));
            listener.onPrefill(to, prompt.length);
            if (prompt.length >= PROGRESS_MIN_TOKENS && (to >= nextReport || to == prompt.length)) {
                nextReport += reportEvery;
                double seconds = (System.nanoTime() - start) / 1e9;
                LOG.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
                        "prefill %,d / %,d tokens (%.0f%%), %.1f s, %.0f tokens/s", to, prompt.length,
                        100.0 * to / prompt.length, seconds, to / seconds));
            }
        }
        return logits;
    }
}
