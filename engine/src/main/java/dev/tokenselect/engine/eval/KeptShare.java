package dev.tokenselect.engine.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The share of its reference-length accuracy a policy keeps at a longer length, on the same questions:
 * only the (task, sample) pairs answered at both lengths count, so a cell run on fewer samples does not
 * compare easier questions with harder ones. The interval is the 2.5th and 97.5th percentile of the
 * share over bootstrap resamplings of those questions (a fixed seed, so a replay prints the same).
 * A question scores 1 or 0 by exact match, or between them by RULER's score ({@link Score}).
 *
 * @param questions questions answered at both lengths
 * @param atReference the questions' summed score at the reference length (by exact match: those right)
 * @param atLength the same at the longer length
 * @param low the interval's lower end, NaN when {@code atReference} is 0
 * @param high the interval's upper end, NaN when {@code atReference} is 0
 */
public record KeptShare(int questions, double atReference, double atLength, double low, double high) {

    public static final int RESAMPLES = 2000;
    /** Every bootstrap of the report draws from this seed, so a replay prints the same intervals. */
    static final long SEED = 0x5EEDL;

    /** {@code atLength / atReference}, NaN when nothing scored at the reference length. */
    public double share() {
        return atReference == 0 ? Double.NaN : atLength / atReference;
    }

    /** The share a policy keeps from {@code reference} to {@code length} over every task in {@code outcomes}, by {@code score}. */
    public static KeptShare of(List<EvalHarness.Outcome> outcomes, String policy, int reference, int length, Score score) {
        Map<String, Double> atReference = new HashMap<>();
        for (EvalHarness.Outcome o : outcomes) {
            if (o.policy().equals(policy) && o.length() == reference) {
                atReference.putIfAbsent(o.task() + '\u0000' + o.sample(), score.of(o));
            }
        }
        // sorted, so the resamplings draw the same questions on every run
        Map<String, Double> atLength = new TreeMap<>();
        for (EvalHarness.Outcome o : outcomes) {
            String key = o.task() + '\u0000' + o.sample();
            if (o.policy().equals(policy) && o.length() == length && atReference.containsKey(key)) {
                atLength.putIfAbsent(key, score.of(o));
            }
        }
        int n = atLength.size();
        double[] ref = new double[n];
        double[] at = new double[n];
        int i = 0;
        for (Map.Entry<String, Double> e : atLength.entrySet()) {
            ref[i] = atReference.get(e.getKey());
            at[i] = e.getValue();
            i++;
        }
        return of(ref, at);
    }

    /** The share and its bootstrap interval of paired verdicts: {@code ref[i]} and {@code at[i]} are one question's. */
    static KeptShare of(boolean[] ref, boolean[] at) {
        return of(ones(ref), ones(at));
    }

    /** The same of paired scores in [0, 1]. */
    static KeptShare of(double[] ref, double[] at) {
        int n = ref.length;
        double r = sum(ref);
        double a = sum(at);
        if (r == 0) {
            return new KeptShare(n, 0, a, Double.NaN, Double.NaN);
        }
        double[] shares = new double[RESAMPLES];
        SplittableRandom random = new SplittableRandom(SEED);
        int kept = 0;
        for (int s = 0; s < RESAMPLES; s++) {
            double sr = 0;
            double sa = 0;
            for (int j = 0; j < n; j++) {
                int q = random.nextInt(n);
                sr += ref[q];
                sa += at[q];
            }
            // a resampling with nothing right at the reference length has no share; it is left out
            if (sr > 0) {
                shares[kept++] = sa / sr;
            }
        }
        java.util.Arrays.sort(shares, 0, kept);
        return new KeptShare(n, r, a, percentile(shares, kept, 0.025), percentile(shares, kept, 0.975));
    }

    /** The {@code p} percentile of the first {@code count} values of {@code sorted}. */
    static double percentile(double[] sorted, int count, double p) {
        int index = (int) Math.floor(p * (count - 1));
        return sorted[Math.max(0, Math.min(count - 1, index))];
    }

    private static double[] ones(boolean[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i] ? 1 : 0;
        }
        return d;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }
}
