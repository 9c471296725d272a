package dev.tokenselect.engine.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenSelectPolicyTest {

    static final Rotator NO_ROPE = (x, off, pos) -> { };

    /** The 5-token, 4-head example: B is the strongest for two heads, E wins head 3 by a wide margin. */
    @Test
    void headSoftVotePicksBAndE() {
        float[][] scores = {
                {0.2f, 0.8f, 0.4f, 0.7f, 0.3f},
                {0.5f, 0.3f, 0.6f, 0.2f, 0.4f},
                {0.1f, 0.6f, 0.3f, 0.4f, 0.9f},
                {0.4f, 0.7f, 0.5f, 0.3f, 0.2f},
        };
        float[] vote = HeadSoftVote.vote(scores);
        assertArrayEquals(new int[] {1, 4}, TopK.ascending(vote, 5, 2));
        float total = 0;
        for (float v : vote) {
            total += v;
        }
        assertEquals(4f, total, 1e-5f, "each head spreads exactly one unit of vote");
        // B's vote is the largest, E's second: C (0.799) and D (0.761) stay out of a k=2 selection
        assertTrue(vote[4] > vote[2] && vote[2] > vote[3] && vote[1] > vote[4]);
    }

    @Test
    void topKBreaksTiesTowardsTheEarlierToken() {
        float[] v = {1, 3, 2, 3, 3, 0};
        assertArrayEquals(new int[] {1, 3}, TopK.ascending(v, 6, 2));
        assertArrayEquals(new int[] {1, 2, 3, 4}, TopK.ascending(v, 6, 4));
        assertArrayEquals(new int[] {0, 1, 2}, TopK.ascending(v, 3, 5));
        assertArrayEquals(new int[0], TopK.ascending(v, 6, 0), "k = 0 (sinks and window only) selects nothing");
    }

    /** The vote's max-pooling: each candidate takes the best vote within width / 2 of it, edges clipped. */
    @Test
    void votePoolingBringsNeighboursAlong() {
        float[] vote = {0.1f, 0.9f, 0.2f, 0.3f, 0.05f, 0.4f, 0f, 0f};
        assertArrayEquals(vote, Arrays.copyOf(VotePool.maxPool(vote, 8, 1), 8), "width 1 changes nothing");
        assertArrayEquals(new float[] {0.9f, 0.9f, 0.9f, 0.3f, 0.4f, 0.4f, 0.4f, 0f},
                Arrays.copyOf(VotePool.maxPool(vote, 8, 3), 8));
        assertArrayEquals(new float[] {0.9f, 0.9f, 0.9f, 0.9f, 0.4f, 0.4f, 0.4f, 0.4f},
                Arrays.copyOf(VotePool.maxPool(vote, 8, 5), 8));
        // only the first count entries are candidates
        assertArrayEquals(new float[] {0.9f, 0.9f, 0.9f}, Arrays.copyOf(VotePool.maxPool(vote, 3, 3), 3));
        // with k = 3 the top token's neighbours are chosen over a lone 0.4
        assertArrayEquals(new int[] {0, 1, 2}, TopK.ascending(VotePool.maxPool(vote, 8, 3), 8, 3));
        assertTrue(SelectionParams.parse("pool=5", null).votePool() == 5);
        var even = assertThrows(IllegalArgumentException.class, () -> SelectionParams.parse("pool=4", null));
        assertTrue(even.getMessage().contains("odd"), even.getMessage());
        assertEquals(255, SelectionParams.parse("pool=255", null).votePool());
        var wide = assertThrows(IllegalArgumentException.class, () -> SelectionParams.parse("pool=257", null));
        assertTrue(wide.getMessage().contains("at most 255"), wide.getMessage());
    }

    @Test
    void gqaMapsConsecutiveQueryHeadsToOneKvHead() {
        Geometry geo = new Geometry(8, 2, 4);
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, 1},
                java.util.stream.IntStream.range(0, 8).map(geo::kvHeadOf).toArray());
    }

    /**
     * Only KV head 0 holds a key that the query heads of group 0 point at; with the h % H_kv mapping
     * half of those heads would read KV head 1 and the vote would go elsewhere.
     */
    @Test
    void selectionFollowsTheGroupedKvHead() {
        Geometry geo = new Geometry(4, 2, 4);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 40, new Random(3));
        for (float[][] g : keys.keys[0]) {
            for (float[] k : g) {
                java.util.Arrays.fill(k, 0.01f);
            }
        }
        keys.keys[0][0][10] = new float[] {9, 0, 0, 0};  // what heads 0 and 1 look for, in KV head 0
        keys.keys[0][1][20] = new float[] {9, 0, 0, 0};  // the same key, in KV head 1: heads 2, 3 read it
        keys.keys[0][1][30] = new float[] {0, 9, 0, 0};  // what heads 2 and 3 look for
        float[] q = new float[geo.queryDim()];
        q[0] = 1;            // head 0 → dimension 0
        q[4] = 1;            // head 1 → dimension 0
        q[8 + 1] = 1;        // head 2 → dimension 1
        q[12 + 1] = 1;       // head 3 → dimension 1
        TokenSelectPolicy p = new TokenSelectPolicy(new SelectionParams(2, 0, 1, 2.0, 1), geo, 1);
        int[] s = p.select(0, q, 1, 40, false, keys, NO_ROPE);
        // h / (H / H_kv): heads 0,1 find token 10 in KV head 0, heads 2,3 find token 30 in KV head 1.
        // h % H_kv would send head 1 to KV head 1 (finding token 20) and head 2 to KV head 0.
        assertArrayEquals(new int[] {10, 30, 39}, s);
    }

    @Test
    void budgetCoveringTheContextMeansFullAttention() {
        Geometry geo = new Geometry(2, 1, 4);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 64, new Random(1));
        TokenSelectPolicy p = new TokenSelectPolicy(new SelectionParams(8, 4, 8, 2.0, 8), geo, 1);
        assertNull(p.select(0, new float[8], 1, 20, true, keys, NO_ROPE));
        int[] s = p.select(0, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 21, true, keys, NO_ROPE);
        assertEquals(20, s.length);
        assertArrayEquals(new int[] {0, 1, 2, 3}, java.util.Arrays.copyOf(s, 4));
        for (int i = 1; i < s.length; i++) {
            assertTrue(s[i] > s[i - 1], "ascending");
        }
        assertEquals(13, s[s.length - 8], "the local window is the last 8 tokens");
    }

    @Test
    void selectionCacheHitsOnNearIdenticalQueriesAndMissesWhenTheQueryChanges() {
        Geometry geo = new Geometry(4, 2, 8);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 2, 300, new Random(7));
        TokenSelectPolicy p = new TokenSelectPolicy(new SelectionParams(16, 4, 16, 0.95, 16), geo, 2);
        Random r = new Random(11);
        float[] q = gaussian(r, geo.queryDim());
        int[] first = p.select(1, q, 1, 200, true, keys, NO_ROPE);
        assertEquals(1, p.stats().selections());
        // a tiny perturbation: cosine stays above 0.95, the kept selection is reused
        float[] near = q.clone();
        for (int i = 0; i < near.length; i++) {
            near[i] += 0.01f * (float) r.nextGaussian();
        }
        int[] second = p.select(1, near, 1, 201, true, keys, NO_ROPE);
        assertEquals(1, p.stats().cacheHits());
        assertEquals(1, p.stats().selections());
        assertArrayEquals(java.util.Arrays.copyOfRange(first, 4, 20), java.util.Arrays.copyOfRange(second, 4, 20),
                "the same selected tokens");
        assertEquals(185, second[20], "the local window moved with the context");
        // an unrelated query: a miss and a fresh selection
        p.select(1, gaussian(r, geo.queryDim()), 1, 202, true, keys, NO_ROPE);
        assertEquals(1, p.stats().cacheMisses());
        assertEquals(2, p.stats().selections());
        // prefill chunks never use the cache
        p.select(1, near, 1, 203, false, keys, NO_ROPE);
        assertEquals(1, p.stats().cacheHits());
        assertEquals(0.5, p.stats().cacheHitRate(), 1e-9);
    }

    /**
     * Tokens every selection must attend join the scoring's choice (each once, ascending); the ones in
     * the sinks, the local window or beyond the cache are not added twice; a cache hit keeps the
     * scoring's own choice and adds them again.
     */
    @Test
    void alwaysSelectedTokensJoinEverySelection() {
        Geometry geo = new Geometry(4, 2, 8);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 300, new Random(7));
        TokenSelectPolicy plain = new TokenSelectPolicy(new SelectionParams(16, 4, 16, 0.95, 16), geo, 1);
        TokenSelectPolicy forced = new TokenSelectPolicy(new SelectionParams(16, 4, 16, 0.95, 16), geo, 1);
        float[] q = gaussian(new Random(5), geo.queryDim());
        int[] base = plain.select(0, q, 1, 200, true, keys, NO_ROPE);
        int chosen = base[10];  // one of the scoring's own picks
        int[] extra = {2, 50, 51, chosen, 190, 250};  // a sink, two new ones, a chosen one, the window, beyond
        forced.alwaysSelect(extra);
        int[] s = forced.select(0, q, 1, 200, true, keys, NO_ROPE);
        java.util.TreeSet<Integer> want = new java.util.TreeSet<>();
        for (int t : base) {
            want.add(t);
        }
        boolean fiftyChosen = want.contains(50), fiftyOneChosen = want.contains(51);
        want.add(50);
        want.add(51);
        assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), s);
        assertEquals(base.length + (fiftyChosen ? 0 : 1) + (fiftyOneChosen ? 0 : 1), s.length);
        // a hit: the kept choice is the scoring's, the forced tokens are added to it again
        int[] hit = forced.select(0, q, 1, 201, true, keys, NO_ROPE);
        assertEquals(1, forced.stats().cacheHits());
        assertTrue(Arrays.binarySearch(hit, 50) >= 0 && Arrays.binarySearch(hit, 51) >= 0, Arrays.toString(hit));
        assertArrayEquals(Arrays.copyOfRange(base, 4, 20), forced.keptTop(0), "the cache holds the scoring's k");
        // cleared: the plain selection again
        forced.alwaysSelect(null);
        assertArrayEquals(plain.select(0, q, 1, 202, true, keys, NO_ROPE), forced.select(0, q, 1, 202, true, keys, NO_ROPE));
    }

    @Test
    void thetaAboveOneNeverHits() {
        Geometry geo = new Geometry(4, 2, 8);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 300, new Random(7));
        TokenSelectPolicy p = new TokenSelectPolicy(new SelectionParams(16, 4, 16, 1.01, 16), geo, 1);
        float[] q = gaussian(new Random(5), geo.queryDim());
        for (int step = 0; step < 10; step++) {
            p.select(0, q, 1, 200 + step, true, keys, NO_ROPE);
        }
        assertEquals(0, p.stats().cacheHits());
        assertEquals(10, p.stats().selections());
    }

    @Test
    void theScoringQueryIsRotatedAtLocalWindowPositions() {
        Geometry geo = new Geometry(1, 1, 2);
        int[] seen = new int[3];
        int[] calls = {0};
        Rotator recording = (x, off, pos) -> seen[calls[0]++] = pos;
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 100, new Random(2));
        new TokenSelectPolicy(new SelectionParams(4, 2, 8, 2.0, 8), geo, 1)
                .select(0, new float[6], 3, 100, false, keys, recording);
        assertArrayEquals(new int[] {8, 9, 10}, seen);
    }

    @Test
    void parametersAreParsedAndChecked() {
        SelectionParams p = SelectionParams.parse("k=32,n-init=4,n-local=32,theta=0.8", null);
        assertEquals(new SelectionParams(32, 4, 32, 0.8, 32), p);
        assertEquals(SelectionParams.defaults(), SelectionParams.parse("", null));
        var e = assertThrows(IllegalArgumentException.class, () -> SelectionParams.parse("k=8,n-local=16", 32));
        assertTrue(e.getMessage().contains("local window"));
        assertThrows(IllegalArgumentException.class, () -> SelectionParams.parse("kk=3", null));
        assertTrue(SelectionParams.parse("k=32,positions=original", null).originalPositions());
        assertFalse(SelectionParams.parse("positions=compacted", null).originalPositions());
        assertFalse(SelectionParams.defaults().originalPositions(), "compacted positions by default");
        var bad = assertThrows(IllegalArgumentException.class, () -> SelectionParams.parse("positions=true", null));
        assertTrue(bad.getMessage().contains("compacted or original"), bad.getMessage());
        assertTrue(new TokenSelectPolicy(p.withOriginalPositions(true), new Geometry(4, 2, 8), 1).originalPositions());
        assertFalse(new TokenSelectPolicy(p, new Geometry(4, 2, 8), 1).originalPositions());
    }

    @Test
    void streamingSeesSinksAndWindowOnly() {
        StreamingPolicy p = new StreamingPolicy(2, 3, 3);
        assertNull(p.select(0, new float[0], 1, 5, true, null, NO_ROPE));
        assertArrayEquals(new int[] {0, 1, 7, 8, 9}, p.select(0, new float[0], 1, 10, true, null, NO_ROPE));
    }

    @Test
    void pagePolicyPicksThePageHoldingTheMatchingKey() {
        Geometry geo = new Geometry(2, 1, 4);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 200, new Random(9));
        for (float[] k : keys.keys[0][0]) {
            for (int j = 0; j < 4; j++) {
                k[j] *= 0.01f;
            }
        }
        keys.keys[0][0][75] = new float[] {0, 0, 5, 0};
        PagePolicy p = new PagePolicy(new SelectionParams(16, 4, 16, 2.0, 16), 16, geo);
        float[] q = {0, 0, 1, 0, 0, 0, 1, 0};
        int[] s = p.select(0, q, 1, 200, true, keys, NO_ROPE);
        assertEquals(4 + 16 + 16, s.length);
        assertEquals(64, s[4], "page [64, 80) holds token 75");
        assertEquals(79, s[19]);
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /**
     * A backend that picks the top candidates where its keys are (the CUDA pool) is asked for them and
     * its answer is used; one that leaves it to the policy gets the same selection from its scores.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 3, 7})
    void selectionCanBeComputedWhereTheKeysAre(int pool) {
        Geometry geo = new Geometry(4, 2, 8);
        SelectionParams params = new SelectionParams(6, 2, 4, 2.0, 4).withVotePool(pool);
        ArrayKeyAccess plain = new ArrayKeyAccess(geo, 1, 60, new Random(11));
        int[] calls = {0};
        KeyAccess there = new KeyAccess() {
            @Override
            public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
                throw new AssertionError("a backend that selects by itself is not asked for scores");
            }

            @Override
            public void key(int layer, int kvHead, int token, float[] out, int off) {
                plain.key(layer, kvHead, token, out, off);
            }

            @Override
            public int[] topCandidates(int layer, float[][] qbar, int from, int to, int k, int width) {
                calls[0]++;
                assertEquals(pool, width, "the policy's pooling width reaches the backend");
                float[][] s = new float[qbar.length][to - from];
                plain.scores(layer, qbar, from, to, s);
                float[] vote = HeadSoftVote.vote(s);
                int[] top = TopK.ascending(width > 1 ? VotePool.maxPool(vote, to - from, width) : vote, to - from, k);
                for (int i = 0; i < top.length; i++) {
                    top[i] += from;
                }
                return top;
            }
        };
        float[] q = new float[geo.numHeads() * geo.headDim()];
        Random r = new Random(5);
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
        }
        int[] byPolicy = new TokenSelectPolicy(params, geo, 1).select(0, q, 1, 60, true, plain, NO_ROPE);
        int[] byBackend = new TokenSelectPolicy(params, geo, 1).select(0, q, 1, 60, true, there, NO_ROPE);
        assertEquals(1, calls[0]);
        assertArrayEquals(byPolicy, byBackend);
        assertEquals(2 + 6 + 4, byBackend.length, "sinks, the k chosen, the local window");
    }

    /**
     * A backend that keeps the selection cache on its device takes it from the policy and hands it
     * back: a policy given another's kept queries and lists decides hits and selects exactly as the
     * other would, and device steps are counted as the policy counts its own.
     */
    @Test
    void selectionCacheHandedBackFromADeviceDecidesAsTheHostWould() {
        Geometry geo = new Geometry(4, 2, 8);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 2, 400, new Random(11));
        SelectionParams params = new SelectionParams(16, 4, 8, 0.5, 8);
        TokenSelectPolicy host = new TokenSelectPolicy(params, geo, 2);
        Random rnd = new Random(5);
        float[] q = new float[geo.queryDim()];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) rnd.nextGaussian();
        }
        for (int layer = 0; layer < 2; layer++) {
            host.select(layer, q, 1, 300, true, keys, NO_ROPE);
            assertEquals(16, host.keptTop(layer).length);
            assertEquals(geo.queryDim(), host.keptQuery(layer).length);
        }
        TokenSelectPolicy device = new TokenSelectPolicy(params, geo, 2);
        assertNull(device.keptQuery(0));
        for (int layer = 0; layer < 2; layer++) {
            device.restoreKept(layer, host.keptQuery(layer).clone(), host.keptTop(layer).clone());
        }
        // a slightly different query stays within theta: both reuse their kept list; a far one selects anew
        float[] near = q.clone();
        near[0] += 0.05f;
        float[] far = new float[q.length];
        for (int i = 0; i < far.length; i++) {
            far[i] = -q[i];
        }
        for (float[] next : new float[][] {near, far}) {
            for (int layer = 0; layer < 2; layer++) {
                assertArrayEquals(host.select(layer, next, 1, 301, true, keys, NO_ROPE),
                        device.select(layer, next, 1, 301, true, keys, NO_ROPE));
            }
        }
        assertEquals(host.stats().cacheHits(), device.stats().cacheHits());
        assertEquals(host.stats().cacheMisses(), device.stats().cacheMisses());
        assertEquals(2, device.stats().cacheHits());
        assertEquals(2, device.stats().cacheMisses());

        // a device step: 1 hit and 1 miss with its selection over two layers, one selecting step
        long steps = device.stats().selectionSteps();
        device.recordDeviceStep(302, 1, 1, 1);
        assertEquals(3, device.stats().cacheHits());
        assertEquals(3, device.stats().cacheMisses());
        assertEquals(steps + 1, device.stats().selectionSteps());
        device.restoreKept(0, null, null);
        assertNull(device.keptQuery(0));
        assertNull(device.keptTop(0));
    }
}
