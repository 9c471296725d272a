package dev.tokenselect.engine.generate;

import java.util.Locale;
import java.util.Random;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import dev.tokenselect.engine.backend.Candidates;

/**
 * Time per sampled token on a Qwen-size vocabulary (151,936): the sampler against the same rule over
 * one full sort of the vocabulary, side by side in one run, best of the repetitions after a warm-up.
 *
 * <pre>java -cp engine/target/classes:engine/target/test-classes dev.tokenselect.engine.generate.SamplerBenchmark</pre>
 */
public final class SamplerBenchmark {

    public static void main(String[] args) {
        int vocab = 151_936;
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        Random r = new Random(1);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (r.nextGaussian() * 3);
        }
        SamplingParams[] params = {
                SamplingParams.builder().temperature(0.7).seed(1L).build(),
                SamplingParams.builder().temperature(0.7).topK(40).seed(1L).build(),
                SamplingParams.builder().temperature(0.7).topP(0.9).seed(1L).build(),
                SamplingParams.builder().temperature(0.7).topK(40).topP(0.9).seed(1L).build()};
        String[] names = {"temperature 0.7", "top-k 40", "top-p 0.9", "top-k 40, top-p 0.9"};
        System.out.printf(Locale.ROOT, "%-22s %12s %12s %8s%n", "sampling", "full sort ms", "ranked ms", "ratio");
        for (int c = 0; c < params.length; c++) {
            Sampler sampler = new Sampler(params[c]);
            RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(1L);
            long full = Long.MAX_VALUE;
            long ranked = Long.MAX_VALUE;
            int[] none = new int[0];
            for (int i = 0; i < reps; i++) { // interleaved, so both see the same machine state
                float[] a = logits.clone();
                long t0 = System.nanoTime();
                SortedCandidatesTest.fullSortSample(a, params[c], random);
                long t1 = System.nanoTime();
                float[] b = logits.clone();
                long t2 = System.nanoTime();
                sampler.sample(b, none, 0);
                long t3 = System.nanoTime();
                full = Math.min(full, t1 - t0);
                ranked = Math.min(ranked, t3 - t2);
            }
            System.out.printf(Locale.ROOT, "%-22s %12.3f %12.3f %7.1fx%n", names[c], full / 1e6, ranked / 1e6,
                    (double) full / ranked);
        }
        // top-k from the 256 candidates a device ranks (Backend.decodeCandidates) against the whole row
        Candidates best = Candidates.best(logits, Sampler.MAX_CANDIDATES);
        System.out.printf(Locale.ROOT, "%n%-22s %12s %12s %8s%n", "sampling", "row ms", "candidates ms", "ratio");
        for (int c : new int[] {1, 3}) {
            Sampler whole = new Sampler(params[c]);
            Sampler fromCandidates = new Sampler(params[c]);
            long row = Long.MAX_VALUE;
            long cand = Long.MAX_VALUE;
            for (int i = 0; i < reps; i++) {
                float[] a = logits.clone();
                long t0 = System.nanoTime();
                whole.sample(a, new int[0], 0);
                long t1 = System.nanoTime();
                fromCandidates.sample(best);
                long t2 = System.nanoTime();
                row = Math.min(row, t1 - t0);
                cand = Math.min(cand, t2 - t1);
            }
            System.out.printf(Locale.ROOT, "%-22s %12.3f %12.4f %7.1fx%n", names[c], row / 1e6, cand / 1e6,
                    (double) row / cand);
        }
    }
}
