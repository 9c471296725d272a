package dev.tokenselect.engine.select;

/**
 * TokenSelect (Wu et al., arXiv 2411.02886) exactly as DESIGN.md defines it: per layer and chunk,
 * score the candidates {@code [nInit, L - nLocal)} with the chunk's scoring query against the
 * un-rotated keys, let the heads vote with a softmax each, keep the {@code k} best, and attend to
 * sinks, the chosen tokens and the local window at compacted positions. Decode steps reuse the
 * last selection while the scoring query stays within cosine {@code theta} of the one that made it.
 */
public final class TokenSelectPolicy implements AttentionPolicy {

    private final SelectionParams params;
    private final Geometry geo;
    private final SelectionStats stats = new SelectionStats();
    private final float[][] keptQuery;
    private final int[][] keptTop;
    private final float[][] qbar;
    private final float[] tmp;
    private float[][] scores;
    private float[] vote;
    private SelectionTrace trace = SelectionTrace.NONE;
    private int[] alwaysKept = new int[0];

    public TokenSelectPolicy(SelectionParams params, Geometry geo, int numLayers) {
        this.params = params;
        this.geo = geo;
        this.keptQuery = new float[numLayers][];
        this.keptTop = new int[numLayers][];
        this.qbar = new float[geo.numHeads()][geo.headDim()];
        this.tmp = new float[geo.headDim()];
        this.scores = new float[geo.numHeads()][0];
        this.vote = new float[0];
    }

    @Override
    public int[] select(int layer, float[] q, int n, int cachedLength, boolean decoding, KeyAccess keys, Rotator rope) {
        if (params.budget() >= cachedLength) {
            if (layer == 0) {
                stats.step(cachedLength, cachedLength, false, decoding);
            }
            trace.selected(layer, decoding, cachedLength, null);
            return null;
        }
        int from = params.nInit();
        int to = cachedLength - params.nLocal();
        float[] flat = ScoringQuery.compute(q, n, geo, params.nLocal(), rope, qbar, tmp, keys);
        int[] top = null;
        if (decoding && params.cacheEnabled() && keptQuery[layer] != null) {
            if (ScoringQuery.cosine(flat, keptQuery[layer]) >= params.theta()) {
                top = keptTop[layer];
                stats.cacheHit();
            } else {
                stats.cacheMiss();
            }
        }
        if (top == null) {
            top = selectTop(layer, from, to, keys);
            stats.selection();
            if (decoding) {
                keptQuery[layer] = flat;
                keptTop[layer] = top;
            }
        }
        int[] middle = alwaysKept.length == 0 ? top : Selections.union(top, alwaysKept, from, to);
        int[] selected = Selections.compose(params.nInit(), middle, params.nLocal(), cachedLength);
        if (layer == 0) {
            stats.step(selected.length, cachedLength, true, decoding);
        }
        trace.selected(layer, decoding, cachedLength, selected);
        return selected;
    }

    /** The k candidates with the highest head soft vote, as absolute token indices, ascending. */
    private int[] selectTop(int layer, int from, int to, KeyAccess keys) {
        // the backend's own top-k, on the exact keys or on its sketches of them
        int[] there = params.int8Keys() ? keys.topCandidatesOnSketches(layer, qbar, from, to, params.k(), params.votePool())
                : keys.topCandidates(layer, qbar, from, to, params.k(), params.votePool());
        if (there != null) {
            return there;
        }
        int count = to - from;
        if (scores[0].length < count) {
            int size = Math.max(count, scores[0].length * 3 / 2);
            scores = new float[geo.numHeads()][size];
            vote = new float[size];
        }
        if (params.int8Keys()) {
            KeySketch.scores(keys, geo, layer, qbar, from, to, scores);
        } else {
            keys.scores(layer, qbar, from, to, scores);
        }
        HeadSoftVote.vote(scores, count, vote);
        float[] ranked = params.votePool() > 1 ? VotePool.maxPool(vote, count, params.votePool()) : vote;
        int[] top = TopK.ascending(ranked, count, params.k());
        for (int i = 0; i < top.length; i++) {
            top[i] += from;
        }
        return top;
    }

    /**
     * Shows every selection made on the host to {@code trace} from now on. A backend that selects on its
     * device inside a replayed decode step (CUDA's graph selection) does not pass through here.
     */
    public void trace(SelectionTrace trace) {
        this.trace = trace == null ? SelectionTrace.NONE : trace;
    }

    /**
     * Makes every selection made on the host from now on attend {@code tokens} too, besides its {@code k}
     * best (those among the candidates; the cached selection itself stays the scoring's). A diagnostic:
     * the accuracy the policy would have if its scoring never missed these tokens. Like the trace, a
     * backend's selection on its device does not see them.
     */
    public void alwaysSelect(int[] tokens) {
        int[] t = tokens == null ? new int[0] : tokens.clone();
        java.util.Arrays.sort(t);
        this.alwaysKept = t;
    }

    public SelectionParams params() {
        return params;
    }

    /**
     * The selection cache of one layer, for a backend that keeps it on its device while it decodes:
     * the kept scoring query (flattened, heads x d) and the kept top-k, or null when the layer has not
     * selected while decoding yet.
     */
    public float[] keptQuery(int layer) {
        return keptQuery[layer];
    }

    public int[] keptTop(int layer) {
        return keptTop[layer];
    }

    /** Takes back a layer's selection cache from a backend that kept it on its device. */
    public void restoreKept(int layer, float[] query, int[] top) {
        keptQuery[layer] = query;
        keptTop[layer] = top;
    }

    /**
     * Counts a decode step that a backend ran with the selection on its device, as {@link #select}
     * counts its own: the step, then per layer the cache hits, misses and fresh selections it made.
     */
    public void recordDeviceStep(int cachedLength, long hits, long misses, long selections) {
        for (long i = 0; i < hits; i++) {
            stats.cacheHit();
        }
        for (long i = 0; i < misses; i++) {
            stats.cacheMiss();
        }
        for (long i = 0; i < selections; i++) {
            stats.selection();
        }
        stats.step(params.budget(), cachedLength, true, true);
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
    public boolean originalPositions() {
        return params.originalPositions();
    }

    @Override
    public String name() {
        return "tokenselect";
    }
}
