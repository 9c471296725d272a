package dev.tokenselect.engine.backend.cpu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.Sampler;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.select.SelectionStats;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Decode time per token at growing contexts, full attention against TokenSelect (default budgets:
 * k 2048, 128 sinks, 512 local) with the selection cache off (every step a miss) and on (theta 0.9),
 * measured side by side in one run on the CPU backend.
 *
 * <p>The model has the attention of Qwen2.5-0.5B (14 query heads, 2 KV heads, head size 64) with 4
 * layers and a small FFN and vocabulary, so that attention, the part TokenSelect changes, is most of
 * a decode step and a 64K-token prefill fits a 2-core machine. The context is prefilled once (with
 * TokenSelect, chunks of 512); each measurement forks it at the context length under test, so both
 * policies decode from the same cache.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp tokenselect-engine-*-cli.jar \
 *     dev.tokenselect.engine.backend.cpu.CpuContextBenchmark DIR [contexts=4096,16384,65536] [steps=32]</pre>
 */
public final class CpuContextBenchmark {

    private CpuContextBenchmark() {
    }

    static ObjectNode config() {
        ObjectNode c = JsonMapper.builder().build().createObjectNode();
        c.putArray("architectures").add("Qwen2ForCausalLM");
        c.put("model_type", "qwen2");
        c.put("hidden_size", 896);
        c.put("intermediate_size", 2432);
        c.put("num_hidden_layers", 4);
        c.put("num_attention_heads", 14);
        c.put("num_key_value_heads", 2);
        c.put("vocab_size", 32768);
        c.put("rope_theta", 1000000.0);
        c.put("rms_norm_eps", 1e-6);
        c.put("tie_word_embeddings", true);
        c.put("max_position_embeddings", 131072);
        return c;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CpuContextBenchmark DIR [contexts=4096,16384,65536] [steps=32]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int[] contexts = Arrays.stream((args.length > 1 ? args[1] : "4096,16384,65536").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            SyntheticModelWriter.write(dir, config(), null, 7, DType.BF16, 1, null);
        }
        int longest = Arrays.stream(contexts).max().orElseThrow();
        SelectionParams defaults = SelectionParams.defaults();
        AttentionSpec tokenSelect = AttentionSpec.tokenSelect(defaults);
        // theta above 1 turns the selection cache off: every step selects afresh (the cost of a miss)
        AttentionSpec noCache = AttentionSpec.tokenSelect(new SelectionParams(defaults.k(), defaults.nInit(),
                defaults.nLocal(), 2.0, defaults.prefillChunk()));
        CpuBackend.Options options = CpuBackend.Options.defaults().withKvCapacityTokens(longest + 8L * (steps + 64));
        try (Model model = Model.load(dir); CpuBackend backend = new CpuBackend(model, options)) {
            int vocab = model.config().vocabSize();
            System.out.println("device: " + backend.device());
            System.out.printf(Locale.ROOT, "model: %s, %d layers, %d heads / %d KV heads, head size %d; TokenSelect %s%n",
                    model.config().architecture().hfName(), model.config().numLayers(), model.config().numHeads(),
                    model.config().numKvHeads(), model.config().headDim(), defaults);
            // Text-like ids: a vocabulary drawn with repeats, so attention has structure to select.
            java.util.Random random = new java.util.Random(42);
            int[] context = new int[longest];
            for (int i = 0; i < longest; i++) {
                context[i] = random.nextInt(i % 97 == 0 ? vocab : 2000);
            }
            try (Sequence source = backend.newSequence(tokenSelect)) {
                long t0 = System.nanoTime();
                int chunk = defaults.prefillChunk();
                for (int from = 0; from < longest; from += chunk) {
                    backend.forward(source, Arrays.copyOfRange(context, from, Math.min(longest, from + chunk)));
                    if ((from / chunk) % 16 == 15 || from + chunk >= longest) {
                        System.out.printf(Locale.ROOT, "prefill: %d / %d tokens, %.1f s%n", Math.min(longest, from + chunk),
                                longest, (System.nanoTime() - t0) / 1e9);
                    }
                }
                List<String> rows = new ArrayList<>();
                rows.add(String.format(Locale.ROOT, "| %8s | %10s | %17s | %8s | %18s | %8s | %9s | %9s |",
                        "context", "full (ms)", "TS, no cache (ms)", "speedup", "TS, theta 0.9 (ms)", "speedup",
                        "hit rate", "attended"));
                rows.add("|---:|---:|---:|---:|---:|---:|---:|---:|");
                for (int length : contexts) {
                    AttentionSpec[] specs = {AttentionSpec.full(), noCache, tokenSelect};
                    double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
                    SelectionStats stats = null;
                    for (AttentionSpec spec : specs) {
                        decode(backend, source, length, spec, 4); // warm-up of each path
                    }
                    for (int rep = 0; rep < 2; rep++) { // interleaved, so drift in the machine hits all three
                        for (int p = 0; p < specs.length; p++) {
                            Result r = decode(backend, source, length, specs[p], steps);
                            best[p] = Math.min(best[p], r.millisPerToken);
                            if (p == 2) {
                                stats = r.stats;
                            }
                        }
                    }
                    rows.add(String.format(Locale.ROOT, "| %8d | %10.2f | %17.2f | %7.2fx | %18.2f | %7.2fx | %8.0f%% | %9.0f |",
                            length, best[0], best[1], best[0] / best[1], best[2], best[0] / best[2],
                            100 * stats.cacheHitRate(), stats.meanDecodeAttended()));
                    System.out.println(rows.get(rows.size() - 1));
                }
                System.out.println();
                rows.forEach(System.out::println);
            }
        }
    }

    private record Result(double millisPerToken, SelectionStats stats) {
    }

    /** Greedy decode of {@code steps} tokens from the first {@code length} tokens of the source. */
    private static Result decode(CpuBackend backend, Sequence source, int length, AttentionSpec spec, int steps) {
        try (Sequence seq = backend.fork(source, length, spec)) {
            float[] logits = backend.forward(seq, new int[] {1}, true);
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                logits = backend.forward(seq, new int[] {Sampler.argmax(logits)}, true);
            }
            return new Result((System.nanoTime() - t0) / 1e6 / steps, seq.selectionStats());
        }
    }
}
