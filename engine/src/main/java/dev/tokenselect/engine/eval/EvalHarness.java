package dev.tokenselect.engine.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * Runs the synthetic tasks against an opened engine under several attention policies and context
 * lengths: greedy decoding, exact-match scoring. Every sample is generated once per (task, length)
 * with the model's own tokenizer and chat template and then answered under every policy.
 */
public final class EvalHarness {

    /** Prompt tokens per forward pass under full attention. */
    public static final int FULL_PREFILL_CHUNK = 512;

    /**
     * @param tasks     task names ({@link EvalTasks#TASKS})
     * @param lengths   target prompt lengths in tokens
     * @param samples   samples per task and length
     * @param seed      the user seed; sample seeds come from {@link EvalSeeds#sampleSeed}
     * @param maxTokens generated tokens at most per answer
     */
    public record Config(List<String> tasks, List<Integer> lengths, List<EvalPolicy> policies, int samples, long seed,
                         int maxTokens) {

        public Config {
            tasks = List.copyOf(tasks);
            lengths = List.copyOf(lengths);
            policies = List.copyOf(policies);
            for (String t : tasks) {
                if (!EvalTasks.TASKS.contains(t)) {
                    throw new IllegalArgumentException("unknown task '" + t + "': use " + String.join(", ", EvalTasks.TASKS));
                }
            }
            if (samples < 1 || samples > EvalSeeds.MAX_SAMPLES) {
                throw new IllegalArgumentException("samples must be in [1, " + EvalSeeds.MAX_SAMPLES + "], was " + samples);
            }
            if (lengths.isEmpty() || lengths.stream().anyMatch(l -> l < 64)) {
                throw new IllegalArgumentException("lengths must be given and at least 64 tokens: " + lengths);
            }
            if (maxTokens < 1) {
                throw new IllegalArgumentException("max tokens must be >= 1, was " + maxTokens);
            }
        }

        public int maxLength() {
            return lengths.stream().mapToInt(Integer::intValue).max().orElseThrow();
        }
    }

    /** One answer of one sample under one policy. */
    public record Outcome(String task, int length, String policy, int sample, long seed, int promptTokens,
                          String generated, List<String> expected, boolean correct, Map<String, Object> stats) {

        /** RULER's score of the answer ({@link Scorer#rulerScore}), worked out from the answer and the expected strings. */
        public double rulerScore() {
            return Scorer.rulerScore(generated, expected);
        }
    }

    private EvalHarness() {
    }

    /** Prompt text of a user message: the chat template where the model has one, else the bare question. */
    public static String promptText(ChatFormat chat, String user) {
        if (chat == null) {
            return user + "\nAnswer:";
        }
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "user");
        message.put("content", user);
        return chat.render(List.of(message), null, true, Map.of());
    }

    /** The chat format of a tokenizer, or null for a base model without a chat template. */
    public static ChatFormat chatFormat(Tokenizer tokenizer) {
        return tokenizer.chatTemplate().isPresent() ? ChatFormat.of(tokenizer) : null;
    }

    public static int[] promptIds(Tokenizer tokenizer, ChatFormat chat, String user) {
        return encodePrompt(tokenizer, chat, promptText(chat, user));
    }

    /** The tokens of a rendered prompt ({@link #promptText}). */
    static int[] encodePrompt(Tokenizer tokenizer, ChatFormat chat, String text) {
        // Like apply_chat_template: the template writes the special tokens itself; a bare prompt gets the tokenizer's.
        return tokenizer.encode(text, chat == null);
    }

    /** Counts prompt tokens with the model's tokenizer and chat template. */
    public static EvalTasks.TokenCounter counter(Tokenizer tokenizer, ChatFormat chat) {
        return new EvalTasks.TokenCounter() {
            @Override
            public int prompt(String userMessage) {
                return promptIds(tokenizer, chat, userMessage).length;
            }

            @Override
            public int text(String text) {
                return tokenizer.encode(text, false).length;
            }
        };
    }

    public static List<Outcome> run(Engine engine, Config config, Consumer<String> progress) {
        return run(engine, config, progress, o -> { });
    }

    /** Runs the evaluation; {@code each} sees every outcome as soon as it is known. */
    public static List<Outcome> run(Engine engine, Config config, Consumer<String> progress, Consumer<Outcome> each) {
        return run(engine, config, progress, each, List.of());
    }

    /**
     * Runs the evaluation, taking the answers in {@code earlier} (an interrupted run of the same seed,
     * read back from its outcome file) instead of generating them again: a long evaluation can go on
     * across several runs. {@code each} sees only the new outcomes; the result holds both.
     */
    public static List<Outcome> run(Engine engine, Config config, Consumer<String> progress, Consumer<Outcome> each,
                                    List<Outcome> earlier) {
        return run(engine, config, progress, each, earlier, false);
    }

    /**
     * As above; with {@code needleRecall} every TokenSelect answer of a needle task also records how much
     * of the asked codes its selections kept ({@link NeedleRecall}).
     */
    public static List<Outcome> run(Engine engine, Config config, Consumer<String> progress, Consumer<Outcome> each,
                                    List<Outcome> earlier, boolean needleRecall) {
        java.util.Map<String, Outcome> done = new java.util.HashMap<>();
        for (Outcome o : earlier) {
            done.put(key(o.task(), o.length(), o.policy(), o.sample(), o.seed()), o);
        }
        Tokenizer tokenizer = engine.tokenizer();
        ChatFormat chat = chatFormat(tokenizer);
        EvalTasks.TokenCounter counter = counter(tokenizer, chat);
        List<Outcome> out = new ArrayList<>();
        SamplingParams sampling = SamplingParams.greedy(config.maxTokens());
        for (int length : config.lengths()) {
            for (String task : config.tasks()) {
                int taskIndex = EvalTasks.TASKS.indexOf(task);
                for (int i = 0; i < config.samples(); i++) {
                    long seed = EvalSeeds.sampleSeed(config.seed(), taskIndex, i);
                    List<EvalPolicy> todo = new ArrayList<>();
                    for (EvalPolicy policy : config.policies()) {
                        Outcome previous = done.get(key(task, length, policy.name(), i, seed));
                        if (previous != null) {
                            out.add(previous);
                        } else {
                            todo.add(policy);
                        }
                    }
                    if (todo.isEmpty()) {
                        continue;
                    }
                    EvalSample sample = EvalTasks.generate(task, seed, length, counter);
                    String text = promptText(chat, sample.user());
                    Prompt prompt = new Prompt(sample, length, i, text, encodePrompt(tokenizer, chat, text), tokenizer,
                            chat == null);
                    for (EvalPolicy policy : todo) {
                        long start = System.nanoTime();
                        Outcome outcome = answer(engine, prompt, policy, sampling, needleRecall);
                        out.add(outcome);
                        each.accept(outcome);
                        progress.accept(String.format(java.util.Locale.ROOT,
                                "%s len %d sample %d (%d tokens) %s: %s %s (%.1f s)%s", task, length, i,
                                outcome.promptTokens(), policy.name(), outcome.correct() ? "ok   " : "WRONG",
                                quote(outcome.generated()), (System.nanoTime() - start) / 1e9,
                                policy.isTokenSelect() ? " cache hit rate " + outcome.stats().get("cache_hit_rate") : ""));
                    }
                }
            }
        }
        return out;
    }

    /**
     * One answer of one question under one policy. A TokenSelect answer of a needle task is traced when
     * asked ({@code needleRecall}) and always under {@code ts-K-needles}, whose trace also proves that every
     * selection passed the host, where the needles are added.
     */
    private static Outcome answer(Engine engine, Prompt prompt, EvalPolicy policy, SamplingParams sampling,
                                  boolean needleRecall) {
        EvalSample q = prompt.question();
        Generator generator = engine.generator(policy.prefillChunk(FULL_PREFILL_CHUNK));
        boolean traced = policy.isTokenSelect() && (needleRecall || policy.keepsNeedles()) && prompt.hasNeedles();
        GenerationResult r;
        Map<String, Object> stats;
        if (traced) {
            NeedleRecall recall = new NeedleRecall(prompt.codes(), prompt.codeSpans(), q.expected(), prompt.ids().length);
            try (Sequence seq = engine.backend().newSequence(policy.spec())) {
                seq.traceSelections(recall);
                if (policy.keepsNeedles()) {
                    seq.alwaysSelect(prompt.needleTokens());
                }
                r = generator.generate(seq, prompt.ids(), sampling, TokenListener.NONE);
            }
            stats = new LinkedHashMap<>(r.stats().toMap());
            requireTraced(stats.get("decode_steps"), recall.decodeSelections());
            stats.putAll(recall.stats());
        } else {
            r = generator.generate(policy.spec(), prompt.ids(), sampling, TokenListener.NONE);
            stats = r.stats().toMap();
        }
        return new Outcome(q.task(), prompt.length(), policy.name(), prompt.sample(), q.seed(), prompt.ids().length,
                r.text(), q.expected(), Scorer.correct(r.text(), q.expected()), stats);
    }

    /**
     * One question as the model reads it, and where its needles lie among its tokens: worked out once,
     * when a traced policy first asks, and shared by every policy that answers it.
     */
    private static final class Prompt {

        private final EvalSample question;
        private final int length;
        private final int sample;
        private final String text;
        private final int[] ids;
        private final Tokenizer tokenizer;
        private final boolean addSpecialTokens;
        private List<String> codes;
        private int[][] codeSpans;
        private int[] needleTokens;

        Prompt(EvalSample question, int length, int sample, String text, int[] ids, Tokenizer tokenizer,
               boolean addSpecialTokens) {
            this.question = question;
            this.length = length;
            this.sample = sample;
            this.text = text;
            this.ids = ids;
            this.tokenizer = tokenizer;
            this.addSpecialTokens = addSpecialTokens;
        }

        EvalSample question() {
            return question;
        }

        int length() {
            return length;
        }

        int sample() {
            return sample;
        }

        int[] ids() {
            return ids;
        }

        boolean hasNeedles() {
            return !codes().isEmpty();
        }

        /** Every needle's code in the haystack, asked or not. */
        List<String> codes() {
            if (codes == null) {
                codes = EvalTasks.needleCodes(question.task(), question.seed());
            }
            return codes;
        }

        /** Each needle code's prompt tokens. */
        int[][] codeSpans() {
            if (codeSpans == null) {
                codeSpans = NeedleRecall.spans(tokenizer, addSpecialTokens, text, ids, codes());
            }
            return codeSpans;
        }

        /** Every token of every needle sentence, ascending. */
        int[] needleTokens() {
            if (needleTokens == null) {
                needleTokens = tokensOf(NeedleRecall.spans(tokenizer, addSpecialTokens, text, ids,
                        EvalTasks.needleSentences(question.task(), question.seed())));
            }
            return needleTokens;
        }
    }

    /** Every token of the {@code [start, end)} spans, ascending. */
    static int[] tokensOf(int[][] spans) {
        return java.util.Arrays.stream(spans).flatMapToInt(sp -> java.util.stream.IntStream.range(sp[0], sp[1]))
                .sorted().distinct().toArray();
    }

    /** A backend that selected on its device while decoding showed the trace none of its steps: say so. */
    static void requireTraced(Object decodeSteps, long tracedDecodeSelections) {
        if (decodeSteps instanceof Number n && n.longValue() > 0 && tracedDecodeSelections == 0) {
            throw new IllegalStateException("the needle recall saw none of the " + n + " decode steps' selections: this"
                    + " backend selects on its device inside replayed decode steps; run with"
                    + " -Dtokenselect.cuda.graphSelection=false, or on the CPU backend");
        }
    }

    private static String key(String task, int length, String policy, int sample, long seed) {
        return task + '\u0000' + length + '\u0000' + policy + '\u0000' + sample + '\u0000' + seed;
    }

    private static String quote(String s) {
        String t = s.replace("\n", "\\n");
        return "\"" + (t.length() > 60 ? t.substring(0, 60) + "..." : t) + "\"";
    }
}
