package dev.tokenselect.engine.eval;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The difference of two independent groups' means (e.g. what the right answers' selections kept less
 * what the wrong answers' kept), with the 2.5th and 97.5th percentiles of bootstrap resamplings, each
 * group resampled apart with the report's one seed ({@link KeptShare#SEED}).
 */
record MeanDifference(double difference, double low, double high) {

    static MeanDifference of(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) {
            return new MeanDifference(Double.NaN, Double.NaN, Double.NaN);
        }
        double[] d = new double[KeptShare.RESAMPLES];
        SplittableRandom random = new SplittableRandom(KeptShare.SEED);
        for (int s = 0; s < d.length; s++) {
            d[s] = resampledMean(a, random) - resampledMean(b, random);
        }
        Arrays.sort(d);
        return new MeanDifference(mean(a) - mean(b), KeptShare.percentile(d, d.length, 0.025),
                KeptShare.percentile(d, d.length, 0.975));
    }

    /** Whether the interval leaves zero out. */
    boolean excludesZero() {
        return low > 0 || high < 0;
    }

    /** E.g. {@code +0.091 (+0.031, +0.149)}. */
    String cell() {
        if (Double.isNaN(difference)) {
            return "–";
        }
        return String.format(Locale.ROOT, "%+.3f (%+.3f, %+.3f)", difference, low, high);
    }

    private static double resampledMean(double[] v, SplittableRandom random) {
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            sum += v[random.nextInt(v.length)];
        }
        return sum / v.length;
    }

    private static double mean(double[] v) {
        double sum = 0;
        for (double x : v) {
            sum += x;
        }
        return sum / v.length;
    }
}
