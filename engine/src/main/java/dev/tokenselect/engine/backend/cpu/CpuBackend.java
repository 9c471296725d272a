package dev.tokenselect.engine.backend.cpu;

import static dev.tokenselect.engine.backend.cpu.VectorMath.add;
import static dev.tokenselect.engine.backend.cpu.VectorMath.addBias;
import static dev.tokenselect.engine.backend.cpu.VectorMath.axpy;
import static dev.tokenselect.engine.backend.cpu.VectorMath.dot;
import static dev.tokenselect.engine.backend.cpu.VectorMath.rmsNorm;
import static dev.tokenselect.engine.backend.cpu.VectorMath.softmax;
import static dev.tokenselect.engine.backend.cpu.VectorMath.swiglu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.PagedSequence;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.kv.KvGeometry;
import dev.tokenselect.engine.kv.KvPool;
import dev.tokenselect.engine.math.Rope;
import dev.tokenselect.engine.model.LayerWeights;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.model.ModelWeights;
import dev.tokenselect.engine.model.Tensor;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.Geometry;
import dev.tokenselect.engine.select.KeyAccess;
import dev.tokenselect.engine.select.Rotator;

/**
 * The reference backend: the decoder forward pass of Llama, Mistral, Qwen2 and Qwen3 in fp32 on the
 * CPU with the Vector API, against a paged KV pool in host memory.
 *
 * <p>Weights stay in the model's memory-mapped files (bf16 and f32 read in place, f16 converted once
 * at load, see {@link Matrix}); the {@link Model} must stay open while the backend is used and is not
 * closed by it. Keys are cached without RoPE and rotated when read, as TokenSelect needs
 * (see DESIGN.md, "KV storage").
 *
 * <p>Thread-safe for distinct sequences; one sequence is used by one thread at a time.
 */
public final class CpuBackend implements Backend {

    /**
     * Options of the CPU backend.
     *
     * @param kvCapacityTokens tokens the KV pool holds over all sequences; memory is taken block by
     *                         block as sequences grow, so a large capacity costs nothing while unused
     * @param blockSize        tokens per KV block
     * @param threads          worker threads for matrix products and attention; 0 means all cores
     * @param maxChunkTokens   a longer {@code forward} call runs in chunks of this many tokens (each
     *                         chunk through all layers), which bounds the activation buffers; the
     *                         result is the same as one chunk
     */
    public record Options(long kvCapacityTokens, int blockSize, int threads, int maxChunkTokens) {

        public static final long DEFAULT_KV_CAPACITY_TOKENS = 32_768;
        public static final int DEFAULT_MAX_CHUNK_TOKENS = 512;

        public Options {
            if (kvCapacityTokens <= 0) {
                throw new IllegalArgumentException("kvCapacityTokens must be positive, got " + kvCapacityTokens);
            }
            if (blockSize <= 0) {
                throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
            }
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be 0 (all cores) or positive, got " + threads);
            }
            if (maxChunkTokens <= 0) {
                throw new IllegalArgumentException("maxChunkTokens must be positive, got " + maxChunkTokens);
            }
        }

        /** 32,768 tokens of KV in blocks of 32, all cores, chunks of 512 tokens. */
        public static Options defaults() {
            return new Options(DEFAULT_KV_CAPACITY_TOKENS, KvGeometry.DEFAULT_BLOCK_SIZE, 0, DEFAULT_MAX_CHUNK_TOKENS);
        }

        public Options withKvCapacityTokens(long tokens) {
            return new Options(tokens, blockSize, threads, maxChunkTokens);
        }

        public Options withBlockSize(int size) {
            return new Options(kvCapacityTokens, size, threads, maxChunkTokens);
        }

        public Options withThreads(int n) {
            return new Options(kvCapacityTokens, blockSize, n, maxChunkTokens);
        }

        public Options withMaxChunkTokens(int n) {
            return new Options(kvCapacityTokens, blockSize, threads, n);
        }

        int resolvedThreads() {
            return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        }
    }

    /** One transformer block in the backend's form; vectors are copied to fp32 arrays at load. */
    private record Layer(float[] attentionNorm, Matrix[] qkv, Matrix[] wo, float[] bq, float[] bk, float[] bv,
                         float[] qNorm, float[] kNorm, float[] ffnNorm, Matrix[] gateUp, Matrix[] down) {
    }

    /** Attention's per-thread buffers: the visible keys rotated, and one row of scores. */
    private static final class AttentionScratch {
        float[] keys = new float[0];
        float[] scores = new float[0];

        float[] keys(int n) {
            if (keys.length < n) {
                keys = new float[Math.max(n, keys.length * 2)];
            }
            return keys;
        }

        float[] scores(int n) {
            if (scores.length < n) {
                scores = new float[Math.max(n, scores.length * 2)];
            }
            return scores;
        }
    }

    /** Below this many multiply-adds a matrix product runs on the calling thread. */
    private static final long PARALLEL_MATMUL_WORK = 1 << 16;
    /** Below this many query-key pairs attention runs on the calling thread. */
    private static final long PARALLEL_ATTENTION_WORK = 1 << 13;

    private final Model model;
    private final ModelConfig config;
    private final Options options;
    private final Arena arena = Arena.ofShared();
    private final Parallel parallel;
    private final KvPool pool;
    private final KvGeometry geometry;
    private final Rope rope;
    private final float attentionScale;
    private final Matrix embedding;
    private final List<Layer> layers;
    private final float[] finalNorm;
    private final Matrix[] lmHead;
    private final Rotator rotator = this::rotateAt;
    private final ThreadLocal<AttentionScratch> attentionScratch = ThreadLocal.withInitial(AttentionScratch::new);
    private volatile boolean closed;

    public CpuBackend(Model model) {
        this(model, Options.defaults());
    }

    public CpuBackend(Model model, Options options) {
        this.model = model;
        this.config = model.config();
        this.options = options;
        ModelConfig c = config;
        ModelWeights w = model.weights();
        try {
            Map<Tensor, Matrix> matrices = new IdentityHashMap<>();
            this.embedding = matrix(matrices, w.embedding());
            List<Layer> ls = new ArrayList<>(c.numLayers());
            for (LayerWeights l : w.layers()) {
                ls.add(new Layer(vector(l.attentionNorm()),
                        new Matrix[] {matrix(matrices, l.wq()), matrix(matrices, l.wk()), matrix(matrices, l.wv())},
                        new Matrix[] {matrix(matrices, l.wo())},
                        vector(l.bq()), vector(l.bk()), vector(l.bv()), vector(l.qNorm()), vector(l.kNorm()),
                        vector(l.ffnNorm()),
                        new Matrix[] {matrix(matrices, l.wGate()), matrix(matrices, l.wUp())},
                        new Matrix[] {matrix(matrices, l.wDown())}));
            }
            this.layers = List.copyOf(ls);
            this.finalNorm = vector(w.finalNorm());
            // Tied: lmHead is the embedding tensor, and the same Matrix (an f16 copy is made once).
            this.lmHead = new Matrix[] {matrix(matrices, w.lmHead())};
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        this.rope = new Rope(c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim()));
        // transformers: scaling = head_dim ** -0.5, applied to q·k in fp32
        this.attentionScale = (float) Math.pow(c.headDim(), -0.5);
        this.geometry = KvGeometry.of(c, options.blockSize());
        this.pool = new KvPool(geometry, options.kvCapacityTokens());
        this.parallel = new Parallel(options.resolvedThreads());
    }

    private Matrix matrix(Map<Tensor, Matrix> cache, Tensor t) {
        return cache.computeIfAbsent(t, x -> Matrix.of(x, arena));
    }

    private static float[] vector(Tensor t) {
        if (t == null) {
            return null;
        }
        float[] v = new float[Math.toIntExact(t.numel())];
        t.read(0, v);
        return v;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String device() {
        return String.format(Locale.ROOT, "CPU (%s, %d threads, %d-bit vectors)", System.getProperty("os.arch"),
                parallel.threads(), VectorMath.F.vectorBitSize());
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public Options options() {
        return options;
    }

    /** The KV pool (capacity, blocks in use, bytes allocated). */
    public KvPool kvPool() {
        return pool;
    }

    @Override
    public CpuSequence newSequence() {
        return newSequence(AttentionSpec.full());
    }

    @Override
    public CpuSequence newSequence(AttentionSpec attention) {
        checkOpen();
        var policy = attention.newPolicy(new Geometry(config.numHeads(), config.numKvHeads(), config.headDim()),
                config.numLayers(), options.maxChunkTokens());
        return new CpuSequence(this, pool.newTable(), policy);
    }

    @Override
    public CpuSequence fork(Sequence source, int length, AttentionSpec attention) {
        BlockTable from = own(source).blockTable();
        if (length < 0 || length > from.length()) {
            throw new IllegalArgumentException("cannot fork " + length + " tokens of a sequence of " + from.length());
        }
        CpuSequence seq = newSequence(attention);
        BlockTable table = seq.blockTable();
        int bs = geometry.blockSize();
        int full = length / bs;
        try {
            for (int b = 0; b < full; b++) {
                table.appendShared(from.blockId(b));
            }
            if (length % bs != 0) {
                table.reserve(length);
                MemorySegment.copy(pool.block(from.blockId(full)), 0, pool.block(table.blockId(full)), 0,
                        geometry.blockBytes());
            }
            table.setLength(length);
        } catch (RuntimeException e) {
            seq.close();
            throw e;
        }
        return seq;
    }

    @Override
    public float[] forward(Sequence sequence, int[] tokens, boolean decoding) {
        checkOpen();
        CpuSequence seq = own(sequence);
        PagedSequence.checkTokens(tokens, config.vocabSize());
        BlockTable table = seq.blockTable();
        int start = table.length();
        table.reserve((long) start + tokens.length); // throws KvCapacityException, changing nothing
        float[] logits = new float[config.vocabSize()];
        try {
            // A selection policy bounds the chunk: each chunk must fit inside its local window.
            int chunk = Math.min(options.maxChunkTokens(), seq.policy().maxChunk());
            for (int done = 0; done < tokens.length; done += chunk) {
                int n = Math.min(chunk, tokens.length - done);
                boolean last = done + n == tokens.length;
                forwardChunk(seq, tokens, done, n, start + done, last ? logits : null, decoding && n == 1);
                table.setLength(start + done + n);
            }
        } catch (RuntimeException | Error e) {
            table.truncate(start);
            throw e;
        }
        return logits;
    }

    /**
     * The transformer on {@code n} tokens at positions {@code pos0 ...}; their K/V rows are written to
     * the sequence's blocks (reserved by the caller). Writes the last token's logits when asked.
     */
    private void forwardChunk(CpuSequence seq, int[] tokens, int from, int n, int pos0, float[] logits,
                              boolean decoding) {
        ModelConfig c = config;
        int hidden = c.hiddenSize();
        float eps = c.rmsNormEps();
        CpuSequence.Scratch s = seq.scratch(c, n);
        Rope.Table ropeTable = rope.table(pos0 + n);

        // token embeddings
        for (int i = 0; i < n; i++) {
            embedding.readRow(tokens[from + i], s.x, i * hidden);
        }

        for (int l = 0; l < layers.size(); l++) {
            Layer w = layers.get(l);

            // attention block: x += o_proj(attention(rmsnorm(x)))
            projectQkv(w, s, n);
            storeKv(seq.blockTable(), l, pos0, n, s.k, s.v); // K without RoPE
            // The policy sees the un-rotated queries: TokenSelect scores with its own rotation.
            int[] selected = seq.policy().select(l, s.q, n, pos0 + n, decoding, keyAccess(seq.blockTable()), rotator);
            // Full attention: true positions. A selection: entry j at position j, query i at |S| - n + i
            // (compacted), or every entry and query at its token's own position (original positions).
            int qPos0 = selected == null ? pos0 : selected.length - n;
            boolean original = selected != null && seq.policy().originalPositions();
            for (int i = 0; i < n; i++) {
                for (int h = 0; h < c.numHeads(); h++) {
                    Rope.rotate(s.q, i * c.queryDim() + h * c.headDim(), ropeTable, (original ? pos0 : qPos0) + i,
                            rope.half());
                }
            }
            attention(seq.blockTable(), l, qPos0, n, selected, original, s.q, s.att, ropeTable);
            outputAndMlp(w, s, n);
        }

        if (logits != null) {
            // final norm and lm_head, last token only
            rmsNorm(s.xb, 0, s.x, (n - 1) * hidden, finalNorm, 1, hidden, eps);
            matmul(s.xb, 1, lmHead, new float[][] {logits});
        }
    }

    /**
     * A decode step of several sequences in one pass: the matrix products run on all their rows at
     * once (each weight read once), attention runs per sequence against its own blocks and policy.
     */
    @Override
    public float[][] decode(List<? extends Sequence> sequences, int[] tokens) {
        checkOpen();
        CpuSequence[] seqs = PagedSequence.decodeBatch(sequences, tokens, config.vocabSize(), this::own)
                .toArray(new CpuSequence[0]);
        int n = seqs.length;
        if (n == 1) {
            return new float[][] {forward(seqs[0], tokens, true)};
        }
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = seqs[i].length();
        }
        int reserved = 0;
        try {
            for (; reserved < n; reserved++) {
                seqs[reserved].blockTable().reserve(pos[reserved] + 1L); // all or nothing
            }
            float[][] logits = decodeRows(seqs, tokens, pos);
            for (int i = 0; i < n; i++) {
                seqs[i].blockTable().setLength(pos[i] + 1);
            }
            return logits;
        } catch (RuntimeException | Error e) {
            for (int i = 0; i < Math.min(reserved + 1, n); i++) {
                seqs[i].blockTable().truncate(pos[i]);
            }
            throw e;
        }
    }

    private float[][] decodeRows(CpuSequence[] seqs, int[] tokens, int[] pos) {
        ModelConfig c = config;
        int n = seqs.length;
        int hidden = c.hiddenSize();
        int qDim = c.queryDim();
        int kvDim = c.kvDim();
        float eps = c.rmsNormEps();
        CpuSequence.Scratch s = new CpuSequence.Scratch(c, n);
        int maxPos = java.util.Arrays.stream(pos).max().orElse(0);
        Rope.Table ropeTable = rope.table(maxPos + 1);
        for (int i = 0; i < n; i++) {
            embedding.readRow(tokens[i], s.x, i * hidden);
        }
        for (int l = 0; l < layers.size(); l++) {
            Layer w = layers.get(l);
            projectQkv(w, s, n);
            for (int i = 0; i < n; i++) {
                // Each sequence attends with its own row, blocks and policy, exactly as a single decode step.
                CpuSequence.Scratch one = seqs[i].scratch(c, 1);
                System.arraycopy(s.q, i * qDim, one.q, 0, qDim);
                System.arraycopy(s.k, i * kvDim, one.k, 0, kvDim);
                System.arraycopy(s.v, i * kvDim, one.v, 0, kvDim);
                BlockTable table = seqs[i].blockTable();
                storeKv(table, l, pos[i], 1, one.k, one.v);
                int[] selected = seqs[i].policy().select(l, one.q, 1, pos[i] + 1, true, keyAccess(table), rotator);
                int qPos = selected == null ? pos[i] : selected.length - 1;
                boolean original = selected != null && seqs[i].policy().originalPositions();
                for (int h = 0; h < c.numHeads(); h++) {
                    Rope.rotate(one.q, h * c.headDim(), ropeTable, original ? pos[i] : qPos, rope.half());
                }
                attention(table, l, qPos, 1, selected, original, one.q, one.att, ropeTable);
                System.arraycopy(one.att, 0, s.att, i * qDim, qDim);
            }
            outputAndMlp(w, s, n);
        }
        rmsNorm(s.xb, 0, s.x, 0, finalNorm, n, hidden, eps);
        float[] all = new float[n * c.vocabSize()];
        matmul(s.xb, n, lmHead, new float[][] {all});
        float[][] logits = new float[n][];
        for (int i = 0; i < n; i++) {
            logits[i] = java.util.Arrays.copyOfRange(all, i * c.vocabSize(), (i + 1) * c.vocabSize());
        }
        return logits;
    }

    /** q, k, v of {@code n} rows: RMSNorm, the fused projection, biases (Qwen2), per-head q/k RMSNorm (Qwen3). */
    private void projectQkv(Layer w, CpuSequence.Scratch s, int n) {
        ModelConfig c = config;
        float eps = c.rmsNormEps();
        rmsNorm(s.xb, 0, s.x, 0, w.attentionNorm(), n, c.hiddenSize(), eps);
        matmul(s.xb, n, w.qkv(), s.qkv);
        if (w.bq() != null) {
            addBias(s.q, w.bq(), n, c.queryDim());
            addBias(s.k, w.bk(), n, c.kvDim());
            addBias(s.v, w.bv(), n, c.kvDim());
        }
        if (w.qNorm() != null) { // Qwen3: RMSNorm of each head's q and k over headDim
            rmsNorm(s.q, 0, s.q, 0, w.qNorm(), n * c.numHeads(), c.headDim(), eps);
            rmsNorm(s.k, 0, s.k, 0, w.kNorm(), n * c.numKvHeads(), c.headDim(), eps);
        }
    }

    /** x += o_proj(attention), then the MLP block: x += down(silu(gate(h)) * up(h)), h = rmsnorm(x). */
    private void outputAndMlp(Layer w, CpuSequence.Scratch s, int n) {
        int hidden = config.hiddenSize();
        matmul(s.att, n, w.wo(), s.hidden);
        add(s.x, s.xb, n * hidden);
        rmsNorm(s.xb, 0, s.x, 0, w.ffnNorm(), n, hidden, config.rmsNormEps());
        matmul(s.xb, n, w.gateUp(), s.gateUp);
        swiglu(s.gate, s.up, n * config.intermediateSize());
        matmul(s.gate, n, w.down(), s.hidden);
        add(s.x, s.xb, n * hidden);
    }

    /** Writes the chunk's K (unrotated) and V rows into the sequence's blocks. */
    private void storeKv(BlockTable table, int layer, int pos0, int n, float[] k, float[] v) {
        int kvDim = config.kvDim();
        int d = config.headDim();
        for (int i = 0; i < n; i++) {
            for (int g = 0; g < config.numKvHeads(); g++) {
                pool.writeKey(table, layer, g, pos0 + i, k, i * kvDim + g * d);
                pool.writeValue(table, layer, g, pos0 + i, v, i * kvDim + g * d);
            }
        }
    }

    /**
     * {@code outs[m][t * rows_m + r] = Σ_c W_m[r, c] · x[t * cols + c]} for matrices sharing the input,
     * as one parallel pass over their rows (q/k/v together, gate/up together). Each weight is read
     * once for all {@code n} tokens.
     */
    private void matmul(float[] x, int n, Matrix[] ws, float[][] outs) {
        int total = 0;
        for (Matrix w : ws) {
            total += w.rows;
        }
        if ((long) total * ws[0].cols * n < PARALLEL_MATMUL_WORK) {
            multiplyRows(x, n, ws, outs, 0, total);
            return;
        }
        int chunk = parallel.chunkFor(total, 4, 4, 16);
        parallel.forRange(total, chunk, (lo, hi) -> multiplyRows(x, n, ws, outs, lo, hi));
    }

    private static void multiplyRows(float[] x, int n, Matrix[] ws, float[][] outs, int lo, int hi) {
        int base = 0;
        for (int m = 0; m < ws.length; m++) {
            Matrix w = ws[m];
            int r0 = Math.max(lo, base);
            int r1 = Math.min(hi, base + w.rows);
            if (r0 < r1) {
                w.multiply(x, 0, n, outs[m], 0, r0 - base, r1 - base);
            }
            base += w.rows;
        }
    }

    /**
     * Causal grouped-query attention of the chunk's {@code n} queries (rotated, at positions
     * {@code pos0 + i}) over the sequence's cached keys and values, keys rotated at their positions
     * on read. Runs in tasks of (KV head, some of its query heads, a tile of queries).
     */
    private void attention(BlockTable table, int layer, int pos0, int n, int[] selected, boolean original, float[] q,
                           float[] out, Rope.Table ropeTable) {
        int kvHeads = config.numKvHeads();
        int group = config.groupSize();
        int threads = parallel.threads();
        int headSplit = 1;
        int tiles = 1;
        long pairs = (long) config.numHeads() * n * (pos0 + n);
        if (threads > 1 && pairs >= PARALLEL_ATTENTION_WORK) {
            headSplit = Math.min(group, (threads + kvHeads - 1) / kvHeads);
            tiles = Math.min(n, (4 * threads + kvHeads * headSplit - 1) / (kvHeads * headSplit));
        }
        int headsPerTask = (group + headSplit - 1) / headSplit;
        int splits = (group + headsPerTask - 1) / headsPerTask;
        int tileLen = (n + tiles - 1) / tiles;
        int tileCount = (n + tileLen - 1) / tileLen;
        int tasks = kvHeads * splits * tileCount;
        parallel.forRange(tasks, 1, (lo, hi) -> {
            for (int task = lo; task < hi; task++) {
                int tile = task % tileCount;
                int split = (task / tileCount) % splits;
                int g = task / (tileCount * splits);
                int h0 = g * group + split * headsPerTask;
                int h1 = Math.min((g + 1) * group, h0 + headsPerTask);
                int i0 = tile * tileLen;
                int i1 = Math.min(n, i0 + tileLen);
                attend(table, layer, g, h0, h1, pos0, i0, i1, selected, original, q, out, ropeTable);
            }
        });
    }

    /**
     * The first key entry a query at {@code p} sees: all, or the last {@code window} positions.
     * A selection replaces the sliding window (its local window is the recent part).
     */
    private int firstVisible(int p, int[] selected) {
        int window = config.slidingWindow();
        return window > 0 && selected == null ? Math.max(0, p - window + 1) : 0;
    }

    /** The cached token behind key entry {@code j}: itself, or the j-th selected token. */
    private static int token(int j, int[] selected) {
        return selected == null ? j : selected[j];
    }

    /**
     * Attention of query heads {@code [h0, h1)} (all of KV head {@code g}) for chunk queries
     * {@code [i0, i1)}, query {@code i} being entry {@code pos0 + i}. Key entry {@code j} is the cached
     * token {@link #token(int, int[])} rotated at position {@code j} (or at its token's position with
     * {@code original}); query {@code i} sees entries up to its own.
     */
    private void attend(BlockTable table, int layer, int g, int h0, int h1, int pos0, int i0, int i1, int[] selected,
                        boolean original, float[] q, float[] out, Rope.Table ropeTable) {
        int d = config.headDim();
        int half = rope.half();
        int qDim = config.queryDim();
        int bs = geometry.blockSize();
        int kLo = firstVisible(pos0 + i0, selected);
        int kHi = pos0 + i1; // exclusive
        AttentionScratch scratch = attentionScratch.get();

        // the keys these queries see, rotated at their entry positions
        float[] keys = scratch.keys((kHi - kLo) * d);
        for (int j = kLo; j < kHi; j++) {
            int t = token(j, selected);
            MemorySegment block = pool.block(table.blockId(t / bs));
            Rope.rotate(block, geometry.keyOffset(layer, g, t % bs), keys, (j - kLo) * d, ropeTable, original ? t : j,
                    half);
        }

        float[] scores = scratch.scores(kHi - kLo);
        for (int h = h0; h < h1; h++) {
            for (int i = i0; i < i1; i++) {
                int p = pos0 + i;
                int lo = firstVisible(p, selected);
                int count = p - lo + 1;
                int qo = i * qDim + h * d;
                // scores = q · k / sqrt(d) over the visible keys, softmax
                for (int j = lo; j <= p; j++) {
                    scores[j - lo] = dot(q, qo, keys, (j - kLo) * d, d) * attentionScale;
                }
                softmax(scores, 0, count);
                // out = Σ_j softmax_j · v_j
                Arrays.fill(out, qo, qo + d, 0f);
                for (int j = lo; j <= p; j++) {
                    int t = token(j, selected);
                    MemorySegment block = pool.block(table.blockId(t / bs));
                    axpy(scores[j - lo], block, geometry.valueOffset(layer, g, t % bs), out, qo, d);
                }
            }
        }
    }

    private void rotateAt(float[] x, int off, int position) {
        Rope.rotate(x, off, rope.table(position + 1), position, rope.half());
    }

    /** The policy's view of a sequence's cached keys: dot products and rows, un-rotated. */
    private KeyAccess keyAccess(BlockTable table) {
        return new KeyAccess() {
            @Override
            public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
                scoreCandidates(table, layer, qbar, from, to, out);
            }

            @Override
            public void key(int layer, int kvHead, int token, float[] out, int off) {
                pool.readKey(table, layer, kvHead, token, out, off);
            }
        };
    }

    /**
     * {@code out[h][t - from] = qbar[h] · K[g(h)][t]} for candidates {@code [from, to)}: each key row is
     * read once for its whole query group, the candidate range split across threads.
     */
    private void scoreCandidates(BlockTable table, int layer, float[][] qbar, int from, int to, float[][] out) {
        int d = config.headDim();
        int group = config.groupSize();
        int bs = geometry.blockSize();
        int count = to - from;
        int chunk = Math.max(bs, parallel.chunkFor(count, 1, 4, 4));
        parallel.forRange(count, count * (long) config.numHeads() * d < PARALLEL_MATMUL_WORK ? count : chunk,
                (lo, hi) -> {
                    for (int c = lo; c < hi; c++) {
                        int t = from + c;
                        MemorySegment block = pool.block(table.blockId(t / bs));
                        for (int g = 0; g < config.numKvHeads(); g++) {
                            long offset = geometry.keyOffset(layer, g, t % bs);
                            for (int h = g * group; h < (g + 1) * group; h++) {
                                out[h][c] = dot(qbar[h], 0, block, offset, d);
                            }
                        }
                    }
                });
    }

    private CpuSequence own(Sequence sequence) {
        if (!(sequence instanceof CpuSequence s) || s.backend() != this) {
            throw new IllegalArgumentException("the sequence was not created by this backend");
        }
        if (s.isClosed()) {
            throw new IllegalStateException("the sequence is closed");
        }
        return s;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the CPU backend is closed");
        }
    }

    /** Frees the KV pool, the worker threads and any converted weights. Does not close the model. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        parallel.close();
        pool.close();
        arena.close();
    }

    /** The model this backend runs. */
    public Model model() {
        return model;
    }
}
