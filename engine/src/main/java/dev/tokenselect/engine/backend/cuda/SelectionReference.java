package dev.tokenselect.engine.backend.cuda;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.random.RandomGenerator;

import dev.tokenselect.engine.select.HeadSoftVote;
import dev.tokenselect.engine.select.KeySketch;
import dev.tokenselect.engine.select.TopK;
import dev.tokenselect.engine.select.VotePool;

/**
 * A device selection's entry list against the CPU reference on the same keys: scores of the
 * un-rotated keys in fp32, {@link HeadSoftVote}, {@link VotePool} where the vote is pooled, {@link TopK}
 * (ascending, ties to the lower index). A candidate only the device takes must be a near-tie (its
 * reference vote within 1e-5 relative of the k-th largest), unless every vote ties, where exactly the
 * first k are right.
 */
final class SelectionReference {

    /** The bf16 value (as float) of element e of token t's key in KV head g. */
    interface Keys {
        float at(int token, int kvHead, int e);

        /**
         * These keys as their int8 sketches dequantised (scale x component, {@link KeySketch}): a key is
         * quantised when its first component is asked for and kept while the same key's others are.
         */
        default Keys sketched(int d) {
            float[] row = new float[d];
            float[] q = new float[d];
            int[] cached = {-1, -1};
            float[] scale = {0f};
            return (t, g, e) -> {
                if (cached[0] != t || cached[1] != g) {
                    for (int i = 0; i < d; i++) {
                        row[i] = at(t, g, i);
                    }
                    scale[0] = KeySketch.quantize(row, 0, d, q);
                    cached[0] = t;
                    cached[1] = g;
                }
                return scale[0] * q[e];
            };
        }
    }

    /** How the device's entries compare: chosen candidates equal to the reference's, near-ties, wrong entries. */
    record Result(int same, int nearTies, int wrong) {
        boolean ok() {
            return wrong == 0;
        }
    }

    private SelectionReference() {
    }

    /**
     * @param got the device's entries: [0, nInit) ++ k chosen (ascending) ++ [len - nLocal, len)
     * @param allTied every key is equal, so every vote ties
     * @param pool the vote's max-pooling width (0 or 1: none)
     */
    static Result compare(float[] qbar, int heads, int kvHeads, int d, Keys keys, int from, int count, int k,
                          int nInit, int nLocal, int len, int[] got, boolean allTied, int pool) {
        float[][] scores = new float[heads][count];
        int group = heads / kvHeads;
        float[] key = new float[d];
        for (int c = 0; c < count; c++) {
            for (int g = 0; g < kvHeads; g++) {
                for (int e = 0; e < d; e++) {
                    key[e] = keys.at(from + c, g, e);
                }
                for (int hh = 0; hh < group; hh++) {
                    int h = g * group + hh;
                    float dot = 0;
                    for (int e = 0; e < d; e++) {
                        dot += qbar[h * d + e] * key[e];
                    }
                    scores[h][c] = dot;
                }
            }
        }
        float[] vote = HeadSoftVote.vote(scores);
        if (pool > 1) {
            vote = VotePool.maxPool(vote, count, pool);
        }
        int kk = Math.min(k, count);
        Set<Integer> reference = new HashSet<>();
        for (int r : TopK.ascending(vote, count, kk)) {
            reference.add(from + r);
        }
        float[] sorted = vote.clone();
        Arrays.sort(sorted);
        float kth = sorted[count - kk];
        int wrong = got.length == nInit + kk + nLocal ? 0 : 1;
        for (int i = 0; i < nInit && i < got.length; i++) {
            wrong += got[i] == i ? 0 : 1;
        }
        for (int i = 0; i < nLocal && nInit + kk + i < got.length; i++) {
            wrong += got[nInit + kk + i] == len - nLocal + i ? 0 : 1;
        }
        int same = 0;
        int nearTies = 0;
        for (int i = 0; i < kk && nInit + i < got.length; i++) {
            int c = got[nInit + i];
            boolean ascending = i == 0 || c > got[nInit + i - 1];
            if (c < from || c >= from + count || !ascending) {
                wrong++;
            } else if (reference.contains(c)) {
                same++;
            } else if (!allTied && Math.abs(vote[c - from] - kth) <= 1e-5 * Math.abs(kth)) {
                nearTies++;
            } else {
                wrong++;
            }
        }
        return new Result(same, nearTies, wrong);
    }

    /** A random permutation of [0, n): a block table whose pages are scattered over the pool. */
    static int[] shuffledTable(int n, RandomGenerator rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
