package dev.tokenselect.engine.backend.cuda;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/**
 * Decode at the longest contexts a card holds: the KV pool takes its default share of the memory
 * left after the weights (which states the largest context this geometry reaches on this card), then
 * one sequence at {@code tokens} of context (filled without a prefill) decodes with full attention, then
 * with TokenSelect (default budget) through the host-driven path and through the replayed graph, side by
 * side: milliseconds per token, the ratio and the selection-cache hit rate; then the graph with the
 * selection cache's threshold at -1, every step a hit, for what a hit costs end to end. With
 * {@code -Dtokenselect.cuda.keySketches=true} the pool keeps int8 sketches of its keys (and so holds
 * fewer tokens), and TokenSelect with {@code keys=int8} is timed too.
 *
 * <pre>java -cp tokenselect-engine-cli.jar dev.tokenselect.engine.backend.cuda.CudaLongContext MODEL_DIR [tokens,...|max] [steps]</pre>
 */
public final class CudaLongContext {

    private static final int KV_PATTERN = 0x3c003c00;

    private CudaLongContext() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: CudaLongContext MODEL_DIR [tokens,...|max] [steps=16]");
            System.exit(2);
        }
        String[] depths = (args.length > 1 ? args[1] : "1048576").split(",");
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        try (Model model = Model.load(Path.of(args[0]));
             CudaBackend backend = new CudaBackend(model, CudaBackend.Options.defaults())) {
            long capacity = backend.kvCapacityTokens();
            System.out.printf(Locale.ROOT, "%s%nlargest context this pool holds: %,d tokens (%d KV bytes per token)%n",
                    backend.summary(), capacity, backend.kvBytesPerToken());
            for (String spec : depths) {
                // "max": the largest context the pool holds, less room for the decoded tokens
                long want = spec.trim().equals("max") ? Long.MAX_VALUE : Long.parseLong(spec.trim());
                int depth = (int) Math.min(Math.min(want, capacity - 4096), Integer.MAX_VALUE - 4096);
                long onDevice = backend.deviceKvCapacityTokens();
                if (depth > onDevice) { // steps that read the host part go over the bus: fewer of them
                    System.out.printf(Locale.ROOT, "context %,d: %,d tokens in host memory; %d steps per row%n", depth,
                            depth - onDevice, Math.min(steps, 4));
                }
                atDepth(backend, depth, depth > onDevice ? Math.min(steps, 4) : steps);
            }
        }
    }

    private static void atDepth(CudaBackend backend, int depth, int steps) {
        double full;
        try (CudaSequence seq = backend.newSequence()) {
            backend.fillForBenchmark(seq, depth, KV_PATTERN);
            full = msPerToken(backend, seq, steps);
        }
        System.out.printf(Locale.ROOT, "context %,d: full attention %.2f ms per token (%.1f tok/s)%n", depth, full,
                1e3 / full);
        // TokenSelect with its selection cache on the host, then replayed from the graph
        boolean before = backend.graphSelection();
        try {
            SelectionParams defaults = SelectionParams.defaults();
            tokenSelect(backend, depth, steps, full, defaults, false, "selection cache on the host");
            tokenSelect(backend, depth, steps, full, defaults, true, "replayed graph");
            if (backend.keySketches()) { // misses scored on the pool's int8 key sketches (built in the untimed steps)
                tokenSelect(backend, depth, steps, full, defaults.withInt8Keys(true), true,
                        "replayed graph, int8 key sketches");
            }
            // the same graph with the selection cache's threshold at -1, so every step after the first is
            // a hit: what a step costs when consecutive queries are alike (random weights give 0% hits)
            tokenSelect(backend, depth, steps, full, defaults.withTheta(-1.0), true,
                    "replayed graph, theta -1: every step a hit");
        } finally {
            backend.setGraphSelection(before);
        }
    }

    /** One TokenSelect row: ms per token at {@code depth}, against full attention's {@code full}. */
    private static void tokenSelect(CudaBackend backend, int depth, int steps, double full, SelectionParams params,
                                    boolean graph, String label) {
        backend.setGraphSelection(graph);
        try (CudaSequence seq = backend.newSequence(AttentionSpec.tokenSelect(params))) {
            backend.fillForBenchmark(seq, depth, KV_PATTERN);
            double ts = msPerToken(backend, seq, steps);
            System.out.printf(Locale.ROOT, "context %,d: TokenSelect (%s) %.2f ms per token (%.1f tok/s), %.2fx"
                            + " full attention, selection-cache hit rate %.0f%%%n", depth, label, ts, 1e3 / ts,
                    full / ts, 100 * seq.selectionStats().cacheHitRate());
        }
    }

    /** Greedy steps as the generator takes them (the device's argmax, no logits row copied), 3 untimed. */
    private static double msPerToken(CudaBackend backend, CudaSequence seq, int steps) {
        List<CudaSequence> one = List.of(seq);
        int token = 1;
        for (int i = 0; i < 3; i++) {
            token = backend.decodeArgmax(one, new int[] {token})[0];
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            token = backend.decodeArgmax(one, new int[] {token})[0];
        }
        return (System.nanoTime() - t0) / 1e6 / steps;
    }
}
