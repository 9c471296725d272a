package dev.tokenselect.engine.backend.cuda;

import java.nio.file.Path;
import java.util.Locale;

import dev.tokenselect.engine.model.Model;

/**
 * Replays decode steps of one sequence at a context depth, for a kernel profiler to attach to (for
 * example Nsight Compute with {@code --launch-skip} past the warm-up steps): the model loads, the KV
 * cache is filled to the depth without a prefill, then {@code steps} replayed steps run and their
 * rate is printed.
 *
 * <pre>java -cp tokenselect-engine-cli.jar dev.tokenselect.engine.backend.cuda.CudaDecodeProfile MODEL_DIR [depth] [steps]</pre>
 */
public final class CudaDecodeProfile {

    private CudaDecodeProfile() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: CudaDecodeProfile MODEL_DIR [depth=4096] [steps=8]");
            System.exit(2);
        }
        int depth = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        try (Model model = Model.load(Path.of(args[0]));
             CudaBackend backend = new CudaBackend(model, CudaBackend.Options.defaults().withKvCapacityTokens(depth + 1024L));
             CudaSequence seq = backend.newSequence()) {
            backend.fillForBenchmark(seq, Math.max(1, depth), 0x3c003c00);
            int token = 1;
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                backend.forward(seq, new int[] {token}, true);
                token = seq.greedyToken();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%s: %d decode steps at depth %d, %.1f tok/s%n", backend.summary(), steps, depth,
                    steps / secs);
        }
    }
}
