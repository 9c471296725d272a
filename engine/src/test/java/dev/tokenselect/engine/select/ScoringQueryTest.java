package dev.tokenselect.engine.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The chunk's scoring query from the backend (computed where the queries are) or by the policy. */
class ScoringQueryTest {

    private static final Geometry GEO = new Geometry(4, 2, 16);
    /** A rotation that depends on the position, so the average is not the plain mean. */
    private static final Rotator SCALE = (x, off, pos) -> {
        for (int i = 0; i < 16; i++) {
            x[off + i] *= 1 + pos % 7;
        }
    };

    private static float[] queries(int n, long seed) {
        Random r = new Random(seed);
        float[] q = new float[n * GEO.queryDim()];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
        }
        return q;
    }

    /** Keys whose backend computes the scoring query from the queries it was given, as a device would. */
    private static KeyAccess computingBackend(KeyAccess keys, float[] q, int[] calls) {
        return new KeyAccess() {
            @Override
            public float[] scoringQuery(int n, int nLocal) {
                calls[0]++;
                float[][] qbar = new float[GEO.numHeads()][GEO.headDim()];
                return ScoringQuery.compute(q, n, GEO, nLocal, SCALE, qbar, new float[GEO.headDim()]);
            }

            @Override
            public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
                keys.scores(layer, qbar, from, to, out);
            }

            @Override
            public void key(int layer, int kvHead, int token, float[] out, int off) {
                keys.key(layer, kvHead, token, out, off);
            }
        };
    }

    @Test
    void aPolicyGivenNoQueriesTakesTheBackendsScoringQueryAndSelectsTheSame() {
        ArrayKeyAccess keys = new ArrayKeyAccess(GEO, 1, 600, new Random(3));
        SelectionParams params = new SelectionParams(64, 4, 32, 2.0, 32);
        for (String policy : new String[] {"tokenselect", "page"}) {
            AttentionSpec spec = new AttentionSpec(AttentionSpec.kind(policy), params, 16);
            float[] q = queries(32, 11);
            int[] calls = {0};
            int[] byPolicy = spec.newPolicy(GEO, 1, 512).select(0, q, 32, 600, false, keys, SCALE);
            int[] byBackend = spec.newPolicy(GEO, 1, 512).select(0, null, 32, 600, false,
                    computingBackend(keys, q, calls), SCALE);
            assertEquals(1, calls[0], policy);
            assertArrayEquals(byPolicy, byBackend, policy);
        }
    }

    @Test
    void withoutQueriesOrABackendScoringQueryThePolicySaysSo() {
        ArrayKeyAccess keys = new ArrayKeyAccess(GEO, 1, 600, new Random(3));
        AttentionPolicy p = AttentionSpec.tokenSelect(new SelectionParams(64, 4, 32, 2.0, 32)).newPolicy(GEO, 1, 512);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.select(0, null, 32, 600, false, keys, SCALE));
        assertEquals("no queries and no scoring query from the backend", e.getMessage());
    }
}
