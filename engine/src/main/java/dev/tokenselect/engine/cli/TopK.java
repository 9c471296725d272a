package dev.tokenselect.engine.cli;

import java.util.Comparator;
import java.util.stream.IntStream;

/** Indices of the largest values, highest first (lower index first on ties). */
final class TopK {

    private TopK() {
    }

    static int[] indices(float[] values, int k) {
        return IntStream.range(0, values.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -values[i]).thenComparingInt(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }
}
