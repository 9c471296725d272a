package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.select.HeadSoftVote;
import dev.tokenselect.engine.select.TopK;
import dev.tokenselect.engine.select.VotePool;

/** The GPU checks' judge of a device selection passes the reference's own answer and fails a wrong one. */
class SelectionReferenceTest {

    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int D = 8;

    private final SplittableRandom rnd = new SplittableRandom(3);

    @Test
    void acceptsTheReferenceSelectionAndCountsEveryWrongEntry() {
        int len = 300;
        int nInit = 4;
        int nLocal = 8;
        int from = nInit;
        int count = len - nInit - nLocal;
        int k = 20;
        float[][][] keys = randomKeys(len);
        float[] qbar = new float[HEADS * D];
        for (int i = 0; i < qbar.length; i++) {
            qbar[i] = (float) rnd.nextGaussian();
        }
        SelectionReference.Keys access = (t, g, e) -> keys[t][g][e];
        int[] right = entries(reference(qbar, keys, from, count, k), nInit, nLocal, len);

        SelectionReference.Result ok = SelectionReference.compare(qbar, HEADS, KV_HEADS, D, access, from, count, k, nInit,
                nLocal, len, right, false, 0);
        assertTrue(ok.ok());
        assertEquals(k, ok.same());

        // a chosen candidate replaced by the lowest-voted one, and a wrong local window entry
        int[] wrong = right.clone();
        int worst = lowestVoted(qbar, keys, from, count);
        wrong[nInit + k - 1] = worst;
        Arrays.sort(wrong, nInit, nInit + k);
        wrong[nInit + k] = 0;
        SelectionReference.Result bad = SelectionReference.compare(qbar, HEADS, KV_HEADS, D, access, from, count, k,
                nInit, nLocal, len, wrong, false, 0);
        assertFalse(bad.ok());
        assertEquals(2, bad.wrong());

        // every key equal: every vote ties, and only the first k candidates are right
        SelectionReference.Keys equal = (t, g, e) -> keys[0][0][e];
        int[] first = new int[k];
        for (int i = 0; i < k; i++) {
            first[i] = from + i;
        }
        assertTrue(SelectionReference.compare(qbar, HEADS, KV_HEADS, D, equal, from, count, k, nInit, nLocal, len,
                entries(first, nInit, nLocal, len), true, 0).ok());
        int[] shifted = first.clone();
        shifted[k - 1] = from + k;
        assertFalse(SelectionReference.compare(qbar, HEADS, KV_HEADS, D, equal, from, count, k, nInit, nLocal, len,
                entries(shifted, nInit, nLocal, len), true, 0).ok());
    }

    @Test
    void aPooledSelectionIsJudgedOnThePooledVote() {
        int len = 400;
        int nInit = 4;
        int nLocal = 8;
        int from = nInit;
        int count = len - nInit - nLocal;
        int k = 24;
        int pool = 5;
        float[][][] keys = randomKeys(len);
        float[] qbar = new float[HEADS * D];
        for (int i = 0; i < qbar.length; i++) {
            qbar[i] = (float) rnd.nextGaussian();
        }
        SelectionReference.Keys access = (t, g, e) -> keys[t][g][e];
        int[] pooled = TopK.ascending(VotePool.maxPool(vote(qbar, keys, from, count), count, pool), count, k);
        for (int i = 0; i < k; i++) {
            pooled[i] += from;
        }
        int[] plain = reference(qbar, keys, from, count, k);
        assertFalse(Arrays.equals(pooled, plain), "pooling changes this selection");

        assertTrue(SelectionReference.compare(qbar, HEADS, KV_HEADS, D, access, from, count, k, nInit, nLocal, len,
                entries(pooled, nInit, nLocal, len), false, pool).ok());
        assertFalse(SelectionReference.compare(qbar, HEADS, KV_HEADS, D, access, from, count, k, nInit, nLocal, len,
                entries(plain, nInit, nLocal, len), false, pool).ok(), "the unpooled selection is not the pooled one");
        assertFalse(SelectionReference.compare(qbar, HEADS, KV_HEADS, D, access, from, count, k, nInit, nLocal, len,
                entries(pooled, nInit, nLocal, len), false, 0).ok(), "nor the pooled one the unpooled");
    }

    private float[][][] randomKeys(int len) {
        float[][][] keys = new float[len][KV_HEADS][D];
        for (float[][] t : keys) {
            for (float[] g : t) {
                for (int e = 0; e < D; e++) {
                    g[e] = Bf16.round((float) rnd.nextGaussian());
                }
            }
        }
        return keys;
    }

    private static float[] vote(float[] qbar, float[][][] keys, int from, int count) {
        float[][] s = new float[HEADS][count];
        for (int h = 0; h < HEADS; h++) {
            int g = h / (HEADS / KV_HEADS);
            for (int c = 0; c < count; c++) {
                float dot = 0;
                for (int e = 0; e < D; e++) {
                    dot += qbar[h * D + e] * keys[from + c][g][e];
                }
                s[h][c] = dot;
            }
        }
        return HeadSoftVote.vote(s);
    }

    private static int[] reference(float[] qbar, float[][][] keys, int from, int count, int k) {
        int[] top = TopK.ascending(vote(qbar, keys, from, count), count, k);
        for (int i = 0; i < top.length; i++) {
            top[i] += from;
        }
        return top;
    }

    private static int lowestVoted(float[] qbar, float[][][] keys, int from, int count) {
        float[] v = vote(qbar, keys, from, count);
        int worst = 0;
        for (int c = 1; c < count; c++) {
            if (v[c] < v[worst]) {
                worst = c;
            }
        }
        return from + worst;
    }

    private static int[] entries(int[] chosen, int nInit, int nLocal, int len) {
        int[] out = new int[nInit + chosen.length + nLocal];
        for (int i = 0; i < nInit; i++) {
            out[i] = i;
        }
        System.arraycopy(chosen, 0, out, nInit, chosen.length);
        for (int i = 0; i < nLocal; i++) {
            out[nInit + chosen.length + i] = len - nLocal + i;
        }
        return out;
    }
}
