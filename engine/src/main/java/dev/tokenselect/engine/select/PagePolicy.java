package dev.tokenselect.engine.select;

import java.util.HashMap;
import java.util.Map;

/**
 * Page-level selection in the manner of Quest and InfLLM, as a baseline: the candidates are cut into
 * pages of {@code pageSize} tokens, each page keeps the per-channel min and max of its keys, a page's
 * score for a head is the upper bound {@code Σ_j max(q_j·min_j, q_j·max_j)} of any key in it, heads
 * vote as in TokenSelect, and the best {@code k / pageSize} pages are attended whole.
 */
public final class PagePolicy implements AttentionPolicy {

    private final SelectionParams params;
    private final int pageSize;
    private final Geometry geo;
    private final SelectionStats stats = new SelectionStats();
    private final float[][] qbar;
    private final float[] tmp;
    /** Bounds of pages that lie wholly inside the candidates, which never change: [kvHead][min d, max d]. */
    private final Map<Long, float[][]> bounds = new HashMap<>();

    public PagePolicy(SelectionParams params, int pageSize, Geometry geo) {
        if (pageSize < 1) {
            throw new IllegalArgumentException("page size must be >= 1, was " + pageSize);
        }
        this.params = params;
        this.pageSize = pageSize;
        this.geo = geo;
        this.qbar = new float[geo.numHeads()][geo.headDim()];
        this.tmp = new float[geo.headDim()];
    }

    @Override
    public int[] select(int layer, float[] q, int n, int cachedLength, boolean decoding, KeyAccess keys, Rotator rope) {
        if (params.budget() >= cachedLength) {
            if (layer == 0) {
                stats.step(cachedLength, cachedLength, false, decoding);
            }
            return null;
        }
        int from = params.nInit();
        int to = cachedLength - params.nLocal();
        ScoringQuery.compute(q, n, geo, params.nLocal(), rope, qbar, tmp, keys);
        int firstPage = from / pageSize;
        int pages = (to - 1) / pageSize - firstPage + 1;
        float[][] pageScores = new float[geo.numHeads()][pages];
        int d = geo.headDim();
        for (int p = 0; p < pages; p++) {
            int lo = Math.max(from, (firstPage + p) * pageSize);
            int hi = Math.min(to, (firstPage + p + 1) * pageSize);
            float[][] b = pageBounds(layer, firstPage + p, lo, hi, (firstPage + p) * pageSize >= from
                    && (firstPage + p + 1) * pageSize <= to, keys);
            for (int h = 0; h < geo.numHeads(); h++) {
                float[] mm = b[geo.kvHeadOf(h)];
                float[] qh = qbar[h];
                float s = 0;
                for (int j = 0; j < d; j++) {
                    s += Math.max(qh[j] * mm[j], qh[j] * mm[d + j]);
                }
                pageScores[h][p] = s;
            }
        }
        float[] vote = HeadSoftVote.vote(pageScores);
        int[] best = TopK.ascending(vote, pages, Math.max(1, params.k() / pageSize));
        int total = 0;
        int[] tokens = new int[best.length * pageSize];
        for (int p : best) {
            int lo = Math.max(from, (firstPage + p) * pageSize);
            int hi = Math.min(to, (firstPage + p + 1) * pageSize);
            for (int t = lo; t < hi; t++) {
                tokens[total++] = t;
            }
        }
        stats.selection();
        int[] selected = Selections.compose(params.nInit(), java.util.Arrays.copyOf(tokens, total), params.nLocal(),
                cachedLength);
        if (layer == 0) {
            stats.step(selected.length, cachedLength, true, decoding);
        }
        return selected;
    }

    private float[][] pageBounds(int layer, int page, int lo, int hi, boolean whole, KeyAccess keys) {
        long key = ((long) layer << 40) | page;
        if (whole) {
            float[][] cached = bounds.get(key);
            if (cached != null) {
                return cached;
            }
        }
        int d = geo.headDim();
        float[][] b = new float[geo.numKvHeads()][2 * d];
        float[] k = new float[(hi - lo) * d];
        for (int g = 0; g < geo.numKvHeads(); g++) {
            java.util.Arrays.fill(b[g], 0, d, Float.POSITIVE_INFINITY);
            java.util.Arrays.fill(b[g], d, 2 * d, Float.NEGATIVE_INFINITY);
            keys.keys(layer, g, lo, hi, d, k);
            for (int t = 0; t < hi - lo; t++) {
                for (int j = 0; j < d; j++) {
                    b[g][j] = Math.min(b[g][j], k[t * d + j]);
                    b[g][d + j] = Math.max(b[g][d + j], k[t * d + j]);
                }
            }
        }
        if (whole) {
            bounds.put(key, b);
        }
        return b;
    }

    @Override
    public int maxChunk() {
        return params.prefillChunk();
    }

    @Override
    public SelectionStats stats() {
        return stats;
    }

    @Override
    public String name() {
        return "page";
    }
}
