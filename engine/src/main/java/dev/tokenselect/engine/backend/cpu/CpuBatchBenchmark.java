package dev.tokenselect.engine.backend.cpu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.Sampler;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;

/**
 * Decode throughput of batched steps ({@code Backend.decode} over B sequences) against one sequence
 * at a time, side by side in one run: a batch reads each weight once for all its sequences.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp tokenselect-engine-*-cli.jar \
 *     dev.tokenselect.engine.backend.cpu.CpuBatchBenchmark DIR [batches=1,2,4,8] [steps=16]</pre>
 */
public final class CpuBatchBenchmark {

    private CpuBatchBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/qwen05b");
        int[] batches = java.util.Arrays.stream((args.length > 1 ? args[1] : "1,2,4,8").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            SyntheticModelWriter.write(dir, Presets.config("qwen2.5-0.5b"), null, 1234, DType.BF16, 1, null);
        }
        try (Model model = Model.load(dir); CpuBackend backend = new CpuBackend(model)) {
            System.out.println("device: " + backend.device() + "; model " + dir);
            System.out.println("| sequences | step (ms) | tokens/s, all sequences | vs one sequence |");
            System.out.println("|---:|---:|---:|---:|");
            double single = 0;
            for (int rep = 0; rep < 2; rep++) { // the first pass warms the JIT up
                for (int b : batches) {
                    List<Sequence> seqs = new ArrayList<>();
                    int[] next = new int[b];
                    for (int i = 0; i < b; i++) {
                        Sequence s = backend.newSequence();
                        int[] prompt = new int[16];
                        for (int t = 0; t < prompt.length; t++) {
                            prompt[t] = (int) ((t * 7919L + 13 * i + 1) % model.config().vocabSize());
                        }
                        backend.forward(s, prompt);
                        seqs.add(s);
                        next[i] = 1 + i;
                    }
                    long t0 = System.nanoTime();
                    for (int step = 0; step < steps; step++) {
                        float[][] logits = backend.decode(seqs, next);
                        for (int i = 0; i < b; i++) {
                            next[i] = Sampler.argmax(logits[i]);
                        }
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double tps = b * steps / seconds;
                    if (b == 1) {
                        single = tps;
                    }
                    if (rep == 1) {
                        System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.2fx |%n", b, seconds * 1000 / steps, tps,
                                single > 0 ? tps / single : 0);
                    }
                    seqs.forEach(Sequence::close);
                }
            }
        }
    }
}
