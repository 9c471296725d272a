package dev.tokenselect.engine.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Candidates;
import dev.tokenselect.engine.backend.PagedSequence;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.Sampler;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.kv.KvGeometry;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.LayerWeights;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.model.ModelWeights;
import dev.tokenselect.engine.model.Tensor;
import dev.tokenselect.engine.select.AttentionPolicy;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.FullAttentionPolicy;
import dev.tokenselect.engine.select.Geometry;
import dev.tokenselect.engine.select.KeyAccess;
import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.select.TokenSelectPolicy;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraphExec;

/**
 * The decoder forward pass of Llama, Mistral, Qwen2 and Qwen3 on one NVIDIA GPU, computing the same
 * function as {@link dev.tokenselect.engine.backend.cpu.CpuBackend} (see its {@code forwardChunk}).
 *
 * <p>Precision: weights live on the device in bf16 (f32/f16 checkpoints are rounded to bf16 on upload);
 * norm weights and biases stay fp32 (they are tiny). Activations are fp32; the prefill GEMM feeds the
 * tensor cores each activation as two bf16 terms (hi + lo, about 16 mantissa bits), the decode GEMV
 * keeps it fp32. The KV cache stores K (un-rotated) and V in bf16; all attention math is fp32. Expect
 * about 1e-2 relative agreement with fp32 references, which is what the self-test checks.
 *
 * <p>KV cache: one device pool of fixed-size blocks (layout per block {@code [layer][K|V][kvHead][slot][headDim]},
 * bf16), bookkept on the host by {@link BlockAllocator}; each sequence mirrors its block table to the
 * device before a forward pass. Sized from {@link Options#kvMemoryFraction()} of the memory left
 * after weights and activations, or {@link Options#kvCapacityTokens()}.
 *
 * <p>Decode: {@link #decode} advances up to {@link Options#maxBatch()} full-attention sequences in one
 * step replayed from a CUDA graph (captured once per batch size and split count; tokens, positions
 * and block tables are read from device memory, see {@code decode.cu}), so a server's continuous
 * batching ({@link dev.tokenselect.engine.generate.BatchScheduler}) reads each weight once per step.
 * Prefill chunks launch from the host; full-attention prefill attention runs on the tensor cores
 * ({@code flash_gqa.cu}). Thread-safe for distinct sequences; forward passes are serialised on the
 * device by one lock.
 *
 * <p>TokenSelect: the chunk's un-rotated queries go to the host, where the Java policy keeps the
 * selection cache; on a miss the device scores every candidate, votes and takes the top k
 * ({@code ts_scores}, {@code ts_select.cu}) and only the k indices come back; attention runs over the
 * selected list with compacted positions.
 */
public final class CudaBackend implements Backend {

    /**
     * Options of the CUDA backend.
     *
     * @param device           CUDA device ordinal
     * @param kvMemoryFraction share of the device memory still free after weights and activations that
     *                         the KV pool takes, when {@code kvCapacityTokens} is 0
     * @param kvCapacityTokens tokens the KV pool holds; 0 to size it from {@code kvMemoryFraction}
     * @param blockSize        tokens per KV block
     * @param maxChunkTokens   a longer forward call runs in chunks of this many tokens
     * @param hostKvBytes      pinned host memory the KV pool extends into past its device part (0: none)
     */
    public record Options(int device, double kvMemoryFraction, long kvCapacityTokens, int blockSize,
                          int maxChunkTokens, int maxBatch, boolean cudaGraphs, boolean keySketches,
                          long hostKvBytes) {

        public Options {
            if (device < 0) {
                throw new IllegalArgumentException("device ordinal must be >= 0, got " + device);
            }
            if (!(kvMemoryFraction > 0 && kvMemoryFraction <= 1)) {
                throw new IllegalArgumentException("kvMemoryFraction must be in (0, 1], got " + kvMemoryFraction);
            }
            if (kvCapacityTokens < 0) {
                throw new IllegalArgumentException("kvCapacityTokens must be >= 0, got " + kvCapacityTokens);
            }
            if (blockSize <= 0) {
                throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
            }
            if (maxChunkTokens <= 0) {
                throw new IllegalArgumentException("maxChunkTokens must be positive, got " + maxChunkTokens);
            }
            if (maxBatch < 1 || maxBatch > maxChunkTokens) {
                throw new IllegalArgumentException("maxBatch must be in [1, maxChunkTokens], got " + maxBatch);
            }
            if (hostKvBytes < 0) {
                throw new IllegalArgumentException("hostKvBytes must be >= 0, got " + hostKvBytes);
            }
        }

        /**
         * Device 0, 90% of the remaining memory for KV, blocks of 32 tokens, chunks of 512, decode
         * batches of up to 16 sequences replayed from CUDA graphs, no key sketches (unless
         * {@code -Dtokenselect.cuda.keySketches=true}), no host memory for KV (unless
         * {@code -Dtokenselect.cuda.kvHostGib=N}).
         */
        public static Options defaults() {
            return new Options(0, 0.9, 0, KvGeometry.DEFAULT_BLOCK_SIZE, 512, 16, true,
                    CudaSwitch.flag("keySketches", false), hostKvBytesFromProperty());
        }

        static final String HOST_KV_PROPERTY = "tokenselect.cuda.kvHostGib";

        /** GiB of {@code -Dtokenselect.cuda.kvHostGib} as bytes, 0 where it is not set. */
        static long hostKvBytesFromProperty() {
            String v = System.getProperty(HOST_KV_PROPERTY);
            if (v == null || v.isBlank()) {
                return 0;
            }
            double gib;
            try {
                gib = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + HOST_KV_PROPERTY + "=" + v + " is not a number of GiB");
            }
            if (!(gib >= 0) || Double.isInfinite(gib)) {
                throw new IllegalArgumentException("-D" + HOST_KV_PROPERTY + " must be a finite number of GiB >= 0, got "
                        + v);
            }
            return (long) (gib * (1L << 30));
        }

        /**
         * Pinned host memory the KV pool extends into past its device part, mapped into the same
         * address range so every kernel reads it as pool blocks (over the bus: a step reading many of
         * them is slow, so it suits TokenSelect with key sketches, whose scoring stays on the device and
         * whose attention reads only the selected tokens). Blocks come from the device part first.
         */
        public Options withHostKvBytes(long bytes) {
            return new Options(device, kvMemoryFraction, kvCapacityTokens, blockSize, maxChunkTokens, maxBatch,
                    cudaGraphs, keySketches, bytes);
        }

        public Options withDevice(int d) {
            return new Options(d, kvMemoryFraction, kvCapacityTokens, blockSize, maxChunkTokens, maxBatch,
                    cudaGraphs, keySketches, hostKvBytes);
        }

        public Options withKvMemoryFraction(double f) {
            return new Options(device, f, kvCapacityTokens, blockSize, maxChunkTokens, maxBatch, cudaGraphs,
                    keySketches, hostKvBytes);
        }

        public Options withKvCapacityTokens(long tokens) {
            return new Options(device, kvMemoryFraction, tokens, blockSize, maxChunkTokens, maxBatch, cudaGraphs,
                    keySketches, hostKvBytes);
        }

        public Options withBlockSize(int size) {
            return new Options(device, kvMemoryFraction, kvCapacityTokens, size, maxChunkTokens, maxBatch,
                    cudaGraphs, keySketches, hostKvBytes);
        }

        public Options withMaxChunkTokens(int n) {
            return new Options(device, kvMemoryFraction, kvCapacityTokens, blockSize, n, maxBatch, cudaGraphs,
                    keySketches, hostKvBytes);
        }

        /** Most sequences one replayed decode step advances; larger batches run in groups. */
        public Options withMaxBatch(int n) {
            return new Options(device, kvMemoryFraction, kvCapacityTokens, blockSize, maxChunkTokens, n, cudaGraphs,
                    keySketches, hostKvBytes);
        }

        /** false: launch every decode kernel from the host (for comparisons and debugging). */
        public Options withCudaGraphs(boolean on) {
            return new Options(device, kvMemoryFraction, kvCapacityTokens, blockSize, maxChunkTokens, maxBatch, on,
                    keySketches, hostKvBytes);
        }

        /**
         * int8 sketches of every pool block's keys, kept current as keys are written, for TokenSelect
         * policies with {@code keys=int8} (their scoring pass then reads half the bytes on the device).
         * They take (d + 4) bytes per key and KV head beside the pool's 4d, so the pool holds fewer tokens.
         */
        public Options withKeySketches(boolean on) {
            return new Options(device, kvMemoryFraction, kvCapacityTokens, blockSize, maxChunkTokens, maxBatch,
                    cudaGraphs, on, hostKvBytes);
        }
    }

    private static final System.Logger LOG = System.getLogger(CudaBackend.class.getName());

    /** One transformer block on the device: fused q|k|v and gate|up matrices, fp32 vectors. */
    private record Layer(CUdeviceptr attnNorm, CUdeviceptr wqkv, CUdeviceptr bqkv, CUdeviceptr qNorm,
                         CUdeviceptr kNorm, CUdeviceptr wo, CUdeviceptr ffnNorm, CUdeviceptr wgu,
                         CUdeviceptr wdown) {
    }

    /** Split-K partial rows (query × split) the attention scratch holds. */
    private static final int PARTIAL_ROWS = 512;
    private static final long UPLOAD_CHUNK = 64L << 20;

    private final Model model;
    private final ModelConfig config;
    private final Options options;
    /** Pool blocks in device memory; the pool's others are in pinned host memory ({@link Options#hostKvBytes}). */
    private final long deviceKvBlocks;
    private final CudaDevice dev;
    private final CudaKernels k;
    private final ReentrantLock lock = new ReentrantLock();
    private final KvGeometry geometry;
    private final BlockAllocator allocator;
    private final CudaKernels.Kv kv;
    private final long blockBytes;
    /**
     * int8 sketches of every pool block's keys (TokenSelect's {@code keys=int8}: the scoring pass reads
     * half the bytes); null unless {@link Options#keySketches()}. They take (d + 4) / 4d of the pool's
     * bytes again (26% more device memory per token at d 128).
     */
    private final CudaKernels.Sketches sketches;
    private final HostRope rope;
    private final CUdeviceptr invFreq;
    private final CUdeviceptr embedding;
    private final CUdeviceptr lmHead;
    private final CUdeviceptr finalNorm;
    private final List<Layer> layers;
    // activations for chunks of up to maxChunkTokens tokens (forward passes are serialised)
    private final int maxChunk;
    private final CUdeviceptr x;
    private final CUdeviceptr xb;
    private final CUdeviceptr qkv;
    private final CUdeviceptr att;
    private final CUdeviceptr gu;
    /**
     * SwiGLU of a prefill chunk's gate|up rows, compact, for the down GEMM: fp32, or fp16 scaled per
     * row (gluScales) where the down GEMM takes rounded rows ({@link CudaKernels#takesRoundedRows}).
     */
    private final CUdeviceptr glu;
    private final CUdeviceptr gluScales;
    /** A prefill chunk's normed rows in fp16, scaled per row, where the GEMM after takes rounded rows. */
    private final CUdeviceptr xb16;
    private final CUdeviceptr xbScales;
    private final CUdeviceptr logitsBuf;
    private final CUdeviceptr argmaxBuf;
    /** The best candidates of each row of a replayed step (ids, logits) and their radix scratch. */
    private final int candidatesPerRow;
    private final CUdeviceptr candIds;
    private final CUdeviceptr candLogits;
    private final CUdeviceptr candScratch;
    private final CUdeviceptr tokensBuf;
    private final CUdeviceptr partial;
    private final long partialFloats;
    private final CUdeviceptr qbarBuf;
    private final GrowingBuffer selBuf;
    private final GrowingBuffer scoresBuf;
    private final long weightBytes;
    // the replayed decode step: tokens | positions, block-table rows, graphs per (batch, splits)
    private final CUdeviceptr stepBuf;
    private final CUdeviceptr tablesBuf;
    private final int tableStride;
    private final int[][] uploadedRows;
    private final Map<Long, CUgraphExec> decodeGraphs = new HashMap<>();
    /**
     * TokenSelect decode steps replayed from graphs, one per (candidate capacity, sampling candidates
     * ranked in the graph); dropped when the parameters change.
     */
    private final Map<Long, CUgraphExec> selectedGraphs = new HashMap<>();
    private final SelectedDecode selected;
    /**
     * TokenSelect decode steps of one sequence replayed from a CUDA graph, selection cache and
     * selection included ({@link SelectedDecode}). On by default: on an H200 the Qwen2-7B geometry's
     * TokenSelect steps at 128K went from 69.9 (selection cache on the host) to 119.4 tokens/s, with the
     * same hits, misses and logits as the host path in the self-test; the system property
     * {@code tokenselect.cuda.graphSelection=false} keeps the host path.
     */
    static final boolean GRAPH_SELECTION_DEFAULT = CudaSwitch.flag("graphSelection", true);
    private volatile boolean graphSelection = GRAPH_SELECTION_DEFAULT;
    private final boolean graphShapes;
    private volatile boolean graphsEnabled;
    private volatile boolean deviceSelection = true;
    private volatile boolean closed;

    public CudaBackend(Model model) {
        this(model, Options.defaults());
    }

    /**
     * Opens the device, uploads the weights and allocates the KV pool.
     *
     * @throws CudaUnavailableException no driver or GPU ("no NVIDIA GPU/driver found"), a build without
     *                                  kernels, or not enough device memory (with the bytes asked for)
     */
    public CudaBackend(Model model, Options options) {
        this.model = model;
        this.config = model.config();
        this.options = options;
        ModelConfig c = config;
        if (c.headDim() % 2 != 0 || c.headDim() > 256) {
            throw new IllegalArgumentException("the CUDA backend supports even head dims up to 256, got " + c.headDim());
        }
        this.dev = CudaDevice.open(options.device());
        try {
            this.k = new CudaKernels(dev);
            if (CudaSwitch.flag("programmaticLaunch", false)) {
                dev.setProgrammaticLaunch(true);
            }
            ModelWeights w = model.weights();
            this.rope = new HostRope(c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim()));
            this.invFreq = dev.upload(c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim()), "RoPE frequencies");
            this.embedding = uploadBf16("embedding", w.embedding());
            this.lmHead = w.lmHead() == w.embedding() ? embedding : uploadBf16("lm_head", w.lmHead());
            this.finalNorm = uploadF32("final norm", w.finalNorm());
            List<Layer> ls = new ArrayList<>();
            for (int i = 0; i < w.layers().size(); i++) {
                LayerWeights l = w.layers().get(i);
                String p = "layer " + i + " ";
                ls.add(new Layer(uploadF32(p + "input norm", l.attentionNorm()),
                        uploadBf16(p + "q|k|v", l.wq(), l.wk(), l.wv()),
                        l.bq() == null ? null : uploadF32(p + "q|k|v bias", l.bq(), l.bk(), l.bv()),
                        l.qNorm() == null ? null : uploadF32(p + "q norm", l.qNorm()),
                        l.kNorm() == null ? null : uploadF32(p + "k norm", l.kNorm()),
                        uploadBf16(p + "o_proj", l.wo()),
                        uploadF32(p + "post-attention norm", l.ffnNorm()),
                        uploadBf16(p + "gate|up", l.wGate(), l.wUp()),
                        uploadBf16(p + "down", l.wDown())));
            }
            this.layers = List.copyOf(ls);
            this.weightBytes = dev.allocatedBytes();
            noteWeightRange(c);

            int t = options.maxChunkTokens();
            this.maxChunk = t;
            int hidden = c.hiddenSize();
            this.x = dev.alloc(4L * t * hidden, "activations");
            this.xb = dev.alloc(4L * t * hidden, "activations");
            this.qkv = dev.alloc(4L * t * (c.queryDim() + 2L * c.kvDim()), "activations");
            this.att = dev.alloc(4L * t * c.queryDim(), "activations");
            this.gu = dev.alloc(4L * t * 2L * c.intermediateSize(), "activations");
            this.glu = dev.alloc(4L * t * c.intermediateSize(), "activations");
            this.gluScales = dev.alloc(4L * t, "activations");
            this.xb16 = dev.alloc(2L * t * hidden, "activations");
            this.xbScales = dev.alloc(4L * t, "activations");
            this.logitsBuf = dev.alloc(4L * options.maxBatch() * c.vocabSize(), "logits");
            this.argmaxBuf = dev.alloc(8L * options.maxBatch(), "argmax");
            this.candidatesPerRow = Math.min(Sampler.MAX_CANDIDATES, c.vocabSize());
            this.candIds = dev.alloc(4L * options.maxBatch() * candidatesPerRow, "sampling candidates");
            this.candLogits = dev.alloc(4L * options.maxBatch() * candidatesPerRow, "sampling candidates");
            this.candScratch = dev.alloc(CudaKernels.topKRowScratchBytes(c.vocabSize()), "sampling candidates");
            this.stepBuf = dev.alloc(8L * options.maxBatch(), "decode step inputs");
            this.tokensBuf = dev.alloc(4L * t, "tokens");
            this.partialFloats = (long) PARTIAL_ROWS * c.numHeads() * (c.headDim() + 2);
            this.partial = dev.alloc(4L * partialFloats, "attention split-K scratch");
            this.qbarBuf = dev.alloc(4L * c.queryDim(), "TokenSelect scoring query");
            this.selected = new SelectedDecode(dev, k, c.numLayers(), c.numHeads(), c.headDim());
            this.selBuf = new GrowingBuffer(dev, "a TokenSelect index list");
            this.scoresBuf = new GrowingBuffer(dev, "TokenSelect scores and selection scratch");

            this.geometry = KvGeometry.of(c, options.blockSize());
            this.blockBytes = 2L * geometry.numLayers() * geometry.numKvHeads() * geometry.blockSize()
                    * geometry.headDim() * 2; // bf16
            boolean withSketches = options.keySketches() && (c.headDim() == 64 || c.headDim() == 128);
            long sketchBytes = withSketches ? CudaKernels.Sketches.bytesPerBlock(c.numLayers(), c.numKvHeads(),
                    options.blockSize(), c.headDim()) : 0;
            // blocks past the device part live in pinned host memory (their sketches stay on the device)
            long hostBlocks = options.hostKvBytes() / blockBytes;
            if (hostBlocks > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "%,d bytes of host memory for KV make %,d"
                        + " blocks of %d tokens, more than a pool holds; ask for less or use a larger block size",
                        options.hostKvBytes(), hostBlocks, options.blockSize()));
            }
            long numBlocks;
            if (options.kvCapacityTokens() > 0) {
                numBlocks = BlockAllocator.blocksFor(options.kvCapacityTokens(), options.blockSize());
            } else {
                long free = dev.memoryInfo()[0];
                numBlocks = ((long) (free * options.kvMemoryFraction()) - hostBlocks * sketchBytes)
                        / (blockBytes + sketchBytes);
                if (numBlocks < 1) {
                    long[] mem = dev.memoryInfo();
                    throw new CudaOutOfMemoryException("the KV pool (not even one block of " + options.blockSize()
                            + " tokens fits after the weights" + (hostBlocks > 0 ? " and the sketches of the host"
                            + " blocks" : "") + ")", blockBytes, mem[0], mem[1], null);
                }
            }
            numBlocks = Math.min(numBlocks, Integer.MAX_VALUE - 8 - hostBlocks);
            String what = "the KV pool (" + numBlocks + " blocks of " + options.blockSize() + " tokens, bf16"
                    + (hostBlocks > 0 ? ", and " + hostBlocks + " in host memory" : "") + ")";
            CUdeviceptr pool;
            long deviceBlocks = numBlocks;
            if (hostBlocks > 0) {
                SpanningRange range = dev.allocSpanning(numBlocks * blockBytes, hostBlocks * blockBytes, what);
                pool = range.base();
                // the device part rounds up: blocks wholly inside it are device blocks, the rest host ones
                deviceBlocks = range.deviceBytes() / blockBytes;
                numBlocks = (range.deviceBytes() + range.hostBytes()) / blockBytes;
                LOG.log(System.Logger.Level.INFO, String.format(Locale.ROOT, "KV pool: %,d tokens on the device, %,d"
                        + " more in %.1f GiB of pinned host memory", deviceBlocks * options.blockSize(),
                        (numBlocks - deviceBlocks) * options.blockSize(), range.hostBytes() / (double) (1L << 30)));
            } else {
                pool = dev.alloc(numBlocks * blockBytes, what);
            }
            this.deviceKvBlocks = deviceBlocks;
            this.kv = new CudaKernels.Kv(pool, blockBytes / 2, options.blockSize(), c.numKvHeads(), c.headDim(),
                    numBlocks);
            this.sketches = withSketches ? CudaKernels.Sketches.allocate(dev, kv, c.numLayers(), numBlocks) : null;
            this.allocator = new BlockAllocator((int) numBlocks, (int) deviceBlocks, options.blockSize(), id -> { });
            this.tableStride = (int) numBlocks;
            this.tablesBuf = dev.alloc(4L * options.maxBatch() * tableStride, "decode block tables");
            this.uploadedRows = new int[options.maxBatch()][0];
            this.graphsEnabled = options.cudaGraphs();
            this.graphShapes = CudaKernels.attentionDecodeFits(c.headDim(), c.numHeads() / c.numKvHeads())
                    && CudaKernels.gemvBatchFits(hidden, hidden) && CudaKernels.gemvBatchFits(c.queryDim(), c.queryDim())
                    && CudaKernels.gemvBatchFits(c.intermediateSize(), 2 * c.intermediateSize());
        } catch (RuntimeException | Error e) {
            dev.close();
            throw e;
        }
    }

    /** Uploads the tensors' rows, concatenated, as one bf16 matrix (converting f32/f16 on the way). */
    private CUdeviceptr uploadBf16(String what, Tensor... parts) {
        long elements = 0;
        for (Tensor t : parts) {
            elements += t.numel();
        }
        CUdeviceptr dst = dev.alloc(2 * elements, what + " (bf16)");
        long offset = 0;
        ByteBuffer staging = null;
        for (Tensor t : parts) {
            long n = t.numel();
            if (t.dtype() == DType.BF16) {
                MemorySegment data = t.data();
                for (long done = 0; done < 2 * n; done += UPLOAD_CHUNK) {
                    long len = Math.min(UPLOAD_CHUNK, 2 * n - done);
                    ByteBuffer src = data.asSlice(done, len).asByteBuffer();
                    if (!src.isDirect()) {
                        ByteBuffer copy = ByteBuffer.allocateDirect((int) len);
                        copy.put(src).flip();
                        src = copy;
                    }
                    dev.copyToDevice(dst.withByteOffset(offset + done), src);
                }
            } else {
                if (staging == null) {
                    staging = ByteBuffer.allocateDirect((int) UPLOAD_CHUNK).order(ByteOrder.LITTLE_ENDIAN);
                }
                long per = UPLOAD_CHUNK / 2;
                for (long done = 0; done < n; done += per) {
                    int len = (int) Math.min(per, n - done);
                    staging.clear();
                    for (int i = 0; i < len; i++) {
                        staging.putShort(Bf16.fromFloat(t.get(done + i)));
                    }
                    staging.flip();
                    dev.copyToDevice(dst.withByteOffset(offset + 2 * done), staging);
                }
            }
            offset += 2 * n;
        }
        return dst;
    }

    /** Uploads small vectors (norm weights, biases), concatenated, in fp32. */
    private CUdeviceptr uploadF32(String what, Tensor... parts) {
        int total = 0;
        for (Tensor t : parts) {
            total += Math.toIntExact(t.numel());
        }
        float[] all = new float[total];
        int off = 0;
        for (Tensor t : parts) {
            float[] v = new float[Math.toIntExact(t.numel())];
            t.read(0, v);
            System.arraycopy(v, 0, all, off, v.length);
            off += v.length;
        }
        return dev.upload(all, what);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String device() {
        return dev.describe();
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public Options options() {
        return options;
    }

    public Model model() {
        return model;
    }

    /** Tokens the KV pool keeps in device memory (all of them unless it extends into host memory). */
    public long deviceKvCapacityTokens() {
        return deviceKvBlocks * allocator.blockSize();
    }

    /** Tokens the KV pool holds over all sequences (its host part included). */
    public long kvCapacityTokens() {
        return allocator.capacityTokens();
    }

    /** Bytes of weights on the device. */
    public long weightBytes() {
        return weightBytes;
    }

    /** The kernels (for benchmarks and the self-test). */
    CudaKernels kernels() {
        return k;
    }

    CudaDevice cudaDevice() {
        return dev;
    }

    /** The CUDA kernels attend over a selection at compacted positions only. */
    private static void refuseOriginalPositions(AttentionSpec attention) {
        if (attention.params() != null && attention.params().originalPositions()) {
            throw new UnsupportedOperationException("TokenSelect with original positions (positions=original) runs on"
                    + " the cpu backend only; the cuda backend attends at compacted positions (positions=compacted,"
                    + " the default)");
        }
    }

    @Override
    public CudaSequence newSequence() {
        return newSequence(AttentionSpec.full());
    }

    @Override
    public CudaSequence newSequence(AttentionSpec attention) {
        checkOpen();
        refuseOriginalPositions(attention);
        AttentionPolicy policy = attention.newPolicy(
                new Geometry(config.numHeads(), config.numKvHeads(), config.headDim()), config.numLayers(),
                options.maxChunkTokens());
        return new CudaSequence(this, new BlockTable(allocator), policy);
    }

    @Override
    public CudaSequence fork(Sequence source, int length, AttentionSpec attention) {
        refuseOriginalPositions(attention);
        BlockTable from = own(source).blockTable();
        if (length < 0 || length > from.length()) {
            throw new IllegalArgumentException("cannot fork " + length + " tokens of a sequence of " + from.length());
        }
        CudaSequence seq = newSequence(attention);
        BlockTable table = seq.blockTable();
        int bs = options.blockSize();
        int full = length / bs;
        lock.lock();
        try {
            dev.makeCurrent();
            if (sketches != null) { // sketched once on the source (a resident corpus), every fork shares them
                CudaSequence src = own(source);
                syncBlockTable(src);
                for (int l = 0; l < config.numLayers(); l++) {
                    sketchUpTo(src, src.deviceTable, l, length);
                }
            }
            for (int b = 0; b < full; b++) {
                table.appendShared(from.blockId(b));
            }
            if (length % bs != 0) {
                table.reserve(length);
                dev.copyDeviceToDevice(kv.pool().withByteOffset(table.blockId(full) * blockBytes),
                        kv.pool().withByteOffset(from.blockId(full) * blockBytes), blockBytes);
                if (sketches != null) {
                    sketches.copyBlock(dev, table.blockId(full), from.blockId(full));
                }
            }
            table.setLength(length);
            if (sketches != null) { // the shared blocks' sketches (and the copied one's) are the source's
                seq.sketchedAll(config.numLayers(), length);
            }
        } catch (RuntimeException e) {
            lock.unlock();
            seq.close();
            throw e;
        }
        lock.unlock();
        return seq;
    }

    @Override
    public float[] forward(Sequence sequence, int[] tokens, boolean decoding) {
        checkOpen();
        CudaSequence seq = own(sequence);
        PagedSequence.checkTokens(tokens, config.vocabSize());
        if (decoding && tokens.length == 1 && (replayable(seq) || selectedReplayable(seq))) {
            float[][] row = new float[1][];
            decodeStep(List.of(seq), tokens, row, null, 0);
            return row[0];
        }
        lock.lock();
        try {
            checkOpen();
            dev.makeCurrent();
            selected.handBack(seq); // a host step of a sequence whose selection cache the device holds
            BlockTable table = seq.blockTable();
            int start = table.length();
            table.reserve((long) start + tokens.length); // throws KvCapacityException, changing nothing
            float[] logits = new float[config.vocabSize()];
            try {
                syncBlockTable(seq);
                int chunk = Math.min(maxChunk, seq.policy().maxChunk());
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
        } finally {
            lock.unlock();
        }
    }

    /**
     * One decode step for several sequences: with full attention and shapes the decode kernels take,
     * batches of up to {@link Options#maxBatch()} advance together in one replayed CUDA graph (each
     * weight read once per group of 8); otherwise each sequence runs its own forward pass.
     */
    @Override
    public float[][] decode(List<? extends Sequence> sequences, int[] tokens) {
        checkOpen();
        List<CudaSequence> seqs = PagedSequence.decodeBatch(sequences, tokens, config.vocabSize(), this::own);
        float[][] out = new float[seqs.size()][];
        decodeStep(seqs, tokens, out, null, 0);
        return out;
    }

    /**
     * Greedy decode steps: every step already finds each row's argmax on the device, so steps replayed
     * from a graph (full attention or TokenSelect) copy 4 bytes per sequence instead of the logits row
     * (600 KB for a 152K vocabulary); other steps copy the logits as {@link #decode} does.
     */
    @Override
    public int[] decodeArgmax(List<? extends Sequence> sequences, int[] tokens) {
        checkOpen();
        List<CudaSequence> seqs = PagedSequence.decodeBatch(sequences, tokens, config.vocabSize(), this::own);
        decodeStep(seqs, tokens, null, null, 0);
        return seqs.stream().mapToInt(seq -> seq.lastArgmax).toArray();
    }

    /**
     * Top-k sampling steps: steps replayed from a graph (full attention, or TokenSelect one sequence at a time) rank each logits row on the device
     * (radix select, as TokenSelect's top-k) and copy its 256 best ids and logits (2 KB) instead of the
     * row (600 KB for a 152K vocabulary); otherwise, and for other steps, the rows are copied and ranked
     * on the host. {@code -Dtokenselect.cuda.deviceCandidates=false} copies the rows everywhere.
     */
    @Override
    public Candidates[] decodeCandidates(List<? extends Sequence> sequences, int[] tokens, int k) {
        checkOpen();
        if (!deviceCandidates || k > candidatesPerRow) {
            return Backend.super.decodeCandidates(sequences, tokens, k);
        }
        List<CudaSequence> seqs = PagedSequence.decodeBatch(sequences, tokens, config.vocabSize(), this::own);
        Candidates[] out = new Candidates[seqs.size()];
        decodeStep(seqs, tokens, null, out, k);
        return out;
    }

    /**
     * One decode step of every sequence; besides each one's argmax ({@code lastArgmax}), its logits
     * row goes to {@code logits[i]} and its best candidates (at least k) to {@code candidates[i]} where
     * those arrays are given. Full-attention batches replay one graph per group of maxBatch; otherwise
     * each sequence steps alone: from its graph where it has one, else as a forward pass.
     */
    private void decodeStep(List<CudaSequence> seqs, int[] tokens, float[][] logits, Candidates[] candidates, int k) {
        int n = seqs.size();
        if (seqs.stream().allMatch(this::replayable)) {
            for (int from = 0; from < n; from += options.maxBatch()) {
                int to = Math.min(n, from + options.maxBatch());
                decodeReplayed(seqs.subList(from, to), Arrays.copyOfRange(tokens, from, to), logits, candidates, from);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            CudaSequence seq = seqs.get(i);
            int[] token = {tokens[i]};
            if (replayable(seq)) {
                decodeReplayed(List.of(seq), token, logits, candidates, i);
            } else if (selectedReplayable(seq)) {
                decodeSelectedReplayed(seq, tokens[i], logits, candidates, i);
            } else {
                float[] row = forward(seq, token, true); // sets lastArgmax from the device's argmax
                if (logits != null) {
                    logits[i] = row;
                }
                if (candidates != null) {
                    candidates[i] = Candidates.best(row, k);
                }
            }
        }
    }

    private volatile boolean deviceCandidates = CudaSwitch.flag("deviceCandidates", true);

    boolean deviceCandidates() {
        return deviceCandidates;
    }

    /** Whether top-k sampling steps rank on the device (see {@link #decodeCandidates}). */
    void setDeviceCandidates(boolean on) {
        deviceCandidates = on;
    }

    private boolean replayable(CudaSequence seq) {
        return graphsEnabled && graphShapes && seq.policy() instanceof FullAttentionPolicy;
    }

    /**
     * Decode step of up to maxBatch full-attention sequences through the captured graph. Row i's logits
     * go to {@code logits[at + i]} and its ranked candidates to {@code candidates[at + i]} only where
     * those arrays are given (the graph then ranks them); the argmax always to its {@code lastArgmax}.
     */
    private void decodeReplayed(List<CudaSequence> seqs, int[] tokens, float[][] logits, Candidates[] candidates,
                                int at) {
        boolean ranked = candidates != null;
        int b = seqs.size();
        lock.lock();
        try {
            checkOpen();
            dev.makeCurrent();
            int[] pos = new int[b];
            int reserved = 0;
            try {
                for (; reserved < b; reserved++) {
                    pos[reserved] = seqs.get(reserved).blockTable().length();
                    seqs.get(reserved).blockTable().reserve(pos[reserved] + 1L); // all or nothing
                }
                int[] step = new int[2 * b];
                int maxLen = 0;
                for (int i = 0; i < b; i++) {
                    step[i] = tokens[i];
                    step[b + i] = pos[i];
                    maxLen = Math.max(maxLen, pos[i] + 1);
                    uploadTableRow(i, seqs.get(i).blockTable().blockIds());
                }
                dev.copyToDevice(stepBuf, step, step.length);
                int nsplit = decodeSplits(b, maxLen);
                long key = graphKey(b, nsplit, ranked);
                CUgraphExec graph = decodeGraphs.get(key);
                if (graph == null) {
                    graph = dev.capture(() -> recordDecodeStep(b, nsplit, ranked));
                    decodeGraphs.put(key, graph);
                }
                dev.replay(graph);
                int[] am = new int[2 * b];
                dev.copyToHost(am, argmaxBuf, am.length);
                copyOut(b, logits, candidates, at);
                for (int i = 0; i < b; i++) {
                    CudaSequence seq = seqs.get(i);
                    seq.lastArgmax = am[2 * i];
                    seq.policy().select(0, null, 1, pos[i] + 1, true, null, rope); // keeps the policy's step stats
                    seq.blockTable().setLength(pos[i] + 1);
                }
            } catch (RuntimeException | Error e) {
                for (int i = 0; i < Math.min(reserved + 1, b); i++) {
                    seqs.get(i).blockTable().truncate(pos[i]);
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Changes what the captured decode graphs would launch (a kernel, a switch): under the lock, then
     * the graphs are dropped, to be recaptured with the change at their next use.
     */
    private void changeCapturedPath(Runnable change) {
        lock.lock();
        try {
            change.run();
            dropGraphs();
        } finally {
            lock.unlock();
        }
    }

    private static long graphKey(int batch, int nsplit, boolean candidates) {
        return ((long) batch << 32) | ((long) nsplit << 1) | (candidates ? 1 : 0);
    }

    /**
     * Whether one-sequence decode steps compute SwiGLU in the gate|up GEMV's epilogue instead of a
     * launch of its own ({@code -Dtokenselect.cuda.fusedGlu=false} keeps the separate launch); the
     * captured graphs hold one or the other, so a change recaptures them.
     */
    private volatile boolean fusedGlu = CudaSwitch.flag("fusedGlu", true);

    boolean fusedGlu() {
        return fusedGlu;
    }

    void setFusedGlu(boolean on) {
        changeCapturedPath(() -> fusedGlu = on);
    }

    boolean spreadGemv() {
        return k.spreadGemv();
    }

    /** One-vector GEMVs spread evenly over the card or one row per warp (see {@link CudaKernels#SPREAD_GEMV_DEFAULT}). */
    void setSpreadGemv(boolean on) {
        changeCapturedPath(() -> k.setSpreadGemv(on));
    }

    /**
     * Decode attention blocks per SM that split-K aims at (the split count is the largest power of two
     * that stays under it); graphs are keyed by split count, so a change takes effect at once.
     */
    private volatile int decodeBlocksPerSm = CudaKernels.decodeBlocksPerSmFromProperty();

    int decodeBlocksPerSm() {
        return decodeBlocksPerSm;
    }

    void setDecodeBlocksPerSm(int blocks) {
        if (blocks < 1) {
            throw new IllegalArgumentException("decode blocks per SM must be >= 1, was " + blocks);
        }
        decodeBlocksPerSm = blocks;
    }

    /**
     * Key-range splits of the decode attention: enough blocks for {@code decodeBlocksPerSm} per SM,
     * never finer than one key tile, rounded down to a power of two so only a few graphs are captured.
     */
    private int decodeSplits(int batch, int maxLen) {
        int window = config.slidingWindow();
        int range = window > 0 ? Math.min(maxLen, window) : maxLen;
        // a block's smallest share: one 32-key tile for each of its four warps (fp32 kernel), or one
        // 64-key tile for all four (tensor-core kernel)
        return CudaKernels.decodeSplitCount(range, k.decodeTileKeys(config.headDim()), config.numKvHeads() * batch,
                decodeBlocksPerSm * dev.multiprocessors(),
                partialFloats / ((long) batch * config.numHeads() * (config.headDim() + 2)));
    }

    /** Mirrors a block table into row {@code row} of the decode tables, uploading only what changed. */
    private void uploadTableRow(int row, int[] ids) {
        int[] old = uploadedRows[row];
        int same = 0;
        int common = Math.min(old.length, ids.length);
        while (same < common && old[same] == ids[same]) {
            same++;
        }
        if (same < ids.length) {
            dev.copyToDevice(tablesBuf.withByteOffset(4L * ((long) row * tableStride + same)),
                    Arrays.copyOfRange(ids, same, ids.length), ids.length - same);
        }
        uploadedRows[row] = ids;
    }

    /** Launches one decode step of {@code batch} sequences (recorded into a graph by the caller). */
    private void recordDecodeStep(int batch, int nsplit, boolean candidates) {
        for (DecodeOp op : decodeOps(batch, nsplit, -1)) {
            op.launch().run();
        }
        if (candidates) {
            recordCandidates(batch);
        }
    }

    /** Each of the first {@code rows} logits rows' best {@code candidatesPerRow}, ranked on the device. */
    private void recordCandidates(int rows) {
        int vocab = config.vocabSize();
        int m = candidatesPerRow;
        for (int i = 0; i < rows; i++) {
            k.topKRow(off(logitsBuf, (long) i * vocab), vocab, m, candScratch, off(candIds, (long) i * m),
                    off(candLogits, (long) i * m));
        }
    }

    /**
     * Copies what a replayed step hands the host for its first {@code rows} rows: each logits row into
     * {@code logits[at + i]} and each row's ranked candidates into {@code candidates[at + i]}, where given.
     */
    private void copyOut(int rows, float[][] logits, Candidates[] candidates, int at) {
        int vocab = config.vocabSize();
        for (int i = 0; logits != null && i < rows; i++) {
            logits[at + i] = new float[vocab];
            dev.copyToHost(logits[at + i], off(logitsBuf, (long) i * vocab), vocab); // straight into each row
        }
        if (candidates != null) {
            int m = candidatesPerRow;
            int[] ids = new int[rows * m];
            float[] values = new float[rows * m];
            dev.copyToHost(ids, candIds, ids.length);
            dev.copyToHost(values, candLogits, values.length);
            for (int i = 0; i < rows; i++) {
                candidates[at + i] = new Candidates(Arrays.copyOfRange(ids, i * m, (i + 1) * m),
                        Arrays.copyOfRange(values, i * m, (i + 1) * m));
            }
        }
    }

    /** One kernel launch of a decode step, named, with the bytes of weights it streams (0 for others). */
    record DecodeOp(String name, long weightBytes, Runnable launch) {
    }

    /**
     * The kernels of a decode step in launch order; {@code onlyLayer} >= 0 keeps that layer's kernels
     * and the final ones (the profile times each alone).
     */
    private List<DecodeOp> decodeOps(int batch, int nsplit, int onlyLayer) {
        return decodeOps(batch, onlyLayer, layer -> k.attentionDecode(qkv, config.queryDim() + 2 * config.kvDim(), kv,
                tablesBuf, tableStride, layer, stepBuf, batch, config.slidingWindow(), invFreq, config.numHeads(), nsplit,
                att, config.queryDim(), partial));
    }

    /** A layer's attention inside a recorded decode step (full attention, or TokenSelect's selection and attention). */
    private interface LayerAttention {
        void record(int layer);
    }

    private List<DecodeOp> decodeOps(int batch, int onlyLayer, LayerAttention attention) {
        ModelConfig c = config;
        int hidden = c.hiddenSize();
        int qDim = c.queryDim();
        int kvDim = c.kvDim();
        int ffn = c.intermediateSize();
        int ld = qDim + 2 * kvDim;
        float eps = c.rmsNormEps();
        List<DecodeOp> ops = new ArrayList<>();
        ops.add(new DecodeOp("embed", 0, () -> k.embed(embedding, stepBuf, x, batch, hidden)));
        // a batch on the tensor cores: each RMSNorm into xb, the GEMVs on xb, K and V appended from q|k|v
        boolean tc = tensorCoreBatch(batch);
        for (int l = 0; l < layers.size(); l++) {
            if (onlyLayer >= 0 && l != onlyLayer) {
                continue;
            }
            Layer w = layers.get(l);
            int layer = l;
            long qkvBytes = 2L * ld * hidden;
            if (tc) {
                ops.add(new DecodeOp("rmsnorm", 0, () -> k.rmsNormRows(xb, x, w.attnNorm(), batch, hidden, eps)));
                ops.add(new DecodeOp("q|k|v tensor cores", qkvBytes, () -> k.gemvBatchTc(w.wqkv(), xb, hidden, qkv, ld,
                        w.bqkv(), ld, hidden, batch, false)));
                addQkNormAndAppend(ops, w, layer, batch);
            } else if (w.qNorm() == null) { // K and V go straight from the projection into the pool
                ops.add(new DecodeOp("q|k|v gemv + norm + kv store", qkvBytes, () -> k.gemvBatchQkv(w.wqkv(), x, hidden,
                        qkv, ld, w.bqkv(), w.attnNorm(), eps, ld, hidden,
                        new CudaKernels.KvTarget(kv, tablesBuf, tableStride, layer, qDim, stepBuf, batch))));
            } else { // q/k norm first (Qwen3)
                ops.add(new DecodeOp("q|k|v gemv + norm", qkvBytes, () -> k.gemvBatch(w.wqkv(), x, hidden, qkv, ld,
                        w.bqkv(), w.attnNorm(), eps, ld, hidden, batch, false)));
                addQkNormAndAppend(ops, w, layer, batch);
            }
            ops.add(new DecodeOp("attention (+ combine)", 0, () -> attention.record(layer)));
            long oBytes = 2L * hidden * qDim;
            long guBytes = 2L * 2 * ffn * hidden;
            long downBytes = 2L * hidden * ffn;
            if (tc) {
                ops.add(new DecodeOp("o tensor cores", oBytes, () -> k.gemvBatchTc(w.wo(), att, qDim, x, hidden, null,
                        hidden, qDim, batch, true)));
                ops.add(new DecodeOp("rmsnorm", 0, () -> k.rmsNormRows(xb, x, w.ffnNorm(), batch, hidden, eps)));
                ops.add(new DecodeOp("gate|up tensor cores", guBytes, () -> k.gemvBatchTc(w.wgu(), xb, hidden, gu,
                        2 * ffn, null, 2 * ffn, hidden, batch, false)));
                ops.add(new DecodeOp("swiglu", 0, () -> k.swigluRows(gu, ffn, batch)));
                ops.add(new DecodeOp("down tensor cores", downBytes, () -> k.gemvBatchTc(w.wdown(), gu, 2 * ffn, x,
                        hidden, null, hidden, ffn, batch, true)));
                continue;
            }
            ops.add(new DecodeOp("o gemv", oBytes, () -> k.gemvBatch(w.wo(), att, qDim, x, hidden, null, null, 0f,
                    hidden, qDim, batch, true)));
            if (batch == 1 && fusedGlu) { // SwiGLU in the GEMV's epilogue: one launch fewer per layer
                ops.add(new DecodeOp("gate|up gemv + norm + swiglu", guBytes, () -> k.gemvGlu(w.wgu(), x, hidden, gu,
                        w.ffnNorm(), eps, ffn, hidden)));
            } else {
                ops.add(new DecodeOp("gate|up gemv + norm", guBytes, () -> k.gemvBatch(w.wgu(), x, hidden, gu, 2 * ffn,
                        null, w.ffnNorm(), eps, 2 * ffn, hidden, batch, false)));
                ops.add(new DecodeOp("swiglu", 0, () -> k.swigluRows(gu, ffn, batch)));
            }
            ops.add(new DecodeOp("down gemv", downBytes, () -> k.gemvBatch(w.wdown(), gu, 2 * ffn, x, hidden, null,
                    null, 0f, hidden, ffn, batch, true)));
        }
        long headBytes = 2L * c.vocabSize() * hidden;
        if (tc) {
            ops.add(new DecodeOp("rmsnorm", 0, () -> k.rmsNormRows(xb, x, finalNorm, batch, hidden, eps)));
            ops.add(new DecodeOp("lm_head tensor cores", headBytes, () -> k.gemvBatchTc(lmHead, xb, hidden, logitsBuf,
                    c.vocabSize(), null, c.vocabSize(), hidden, batch, false)));
        } else {
            ops.add(new DecodeOp("lm_head gemv + norm", headBytes, () -> k.gemvBatch(lmHead, x, hidden, logitsBuf,
                    c.vocabSize(), null, finalNorm, eps, c.vocabSize(), hidden, batch, false)));
        }
        ops.add(new DecodeOp("argmax", 0, () -> k.argmaxRows(logitsBuf, batch, c.vocabSize(), argmaxBuf)));
        return ops;
    }

    /** Whether a prefill chunk's RMSNorm rounds the rows of a GEMM of N x K itself ({@link CudaKernels#takesRoundedRows}). */
    private boolean roundsNormedRows(int n, int gemmN, int hidden) {
        return n > 1 && hidden % 4 == 0 && hidden <= CudaKernels.RMSNORM16_MAX_DIM && k.takesRoundedRows(n, gemmN, hidden);
    }

    /** Whether a prefill chunk's SwiGLU rounds the rows of the down GEMM (N hidden, K ffn) itself. */
    private boolean roundsGluRows(int n, int hidden, int ffn) {
        return n > 1 && ffn % 4 == 0 && ffn <= CudaKernels.SWIGLU16_MAX_FFN && k.takesRoundedRows(n, hidden, ffn);
    }

    /** The q/k norm of the q|k|v rows (where the model has it), then K and V appended to the pool. */
    private void addQkNormAndAppend(List<DecodeOp> ops, Layer w, int layer, int batch) {
        ModelConfig c = config;
        int qDim = c.queryDim();
        int kvDim = c.kvDim();
        int ld = qDim + 2 * kvDim;
        float eps = c.rmsNormEps();
        if (w.qNorm() != null) {
            ops.add(new DecodeOp("q norm", 0, () -> k.rmsNormHeadsStrided(qkv, w.qNorm(), batch, c.numHeads(), ld,
                    c.headDim(), eps)));
            ops.add(new DecodeOp("k norm", 0, () -> k.rmsNormHeadsStrided(off(qkv, qDim), w.kNorm(), batch,
                    c.numKvHeads(), ld, c.headDim(), eps)));
        }
        ops.add(new DecodeOp("kv append", 0, () -> k.kvAppendBatch(off(qkv, qDim), off(qkv, qDim + kvDim), ld, kv,
                tablesBuf, tableStride, layer, stepBuf, batch)));
    }

    /** Whether a decode step of {@code batch} sequences multiplies on the tensor cores ({@link CudaKernels#gemvBatchTc}). */
    private boolean tensorCoreBatch(int batch) {
        ModelConfig c = config;
        return k.tensorCoreBatches() && batch >= CudaKernels.TC_BATCH_MIN && batch <= maxChunk
                && CudaKernels.gemvBatchTcFits(c.hiddenSize(), c.hiddenSize())
                && CudaKernels.gemvBatchTcFits(c.queryDim(), c.queryDim())
                && CudaKernels.gemvBatchTcFits(c.intermediateSize(), 2 * c.intermediateSize());
    }

    /**
     * Times each kernel of layer 0's decode step (and the final ones) alone, for these sequences as a
     * batch at their current lengths: microseconds per launch, back to back, from device events. The
     * sequences are left as they were.
     */
    List<Map.Entry<DecodeOp, Double>> profileDecodeStep(List<CudaSequence> seqs, int reps) {
        int b = seqs.size();
        lock.lock();
        try {
            dev.makeCurrent();
            int[] pos = new int[b];
            int[] step = new int[2 * b];
            int maxLen = 0;
            for (int i = 0; i < b; i++) {
                BlockTable t = seqs.get(i).blockTable();
                pos[i] = t.length();
                t.reserve(pos[i] + 1L); // the step writes K/V at pos: its block must exist
                step[i] = 1;
                step[b + i] = pos[i];
                maxLen = Math.max(maxLen, pos[i] + 1);
                uploadTableRow(i, t.blockIds());
            }
            try {
                dev.copyToDevice(stepBuf, step, step.length);
                int nsplit = decodeSplits(b, maxLen);
                List<Map.Entry<DecodeOp, Double>> out = new ArrayList<>();
                CudaDevice.Timer timer = dev.timer();
                for (DecodeOp op : decodeOps(b, nsplit, 0)) {
                    op.launch().run();
                    timer.start();
                    for (int r = 0; r < reps; r++) {
                        op.launch().run();
                    }
                    out.add(Map.entry(op, 1e3 * timer.stopMillis() / reps));
                }
                timer.destroy();
                return out;
            } finally {
                for (int i = 0; i < b; i++) {
                    seqs.get(i).blockTable().truncate(pos[i]);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void syncBlockTable(CudaSequence seq) {
        int[] ids = seq.blockTable().blockIds();
        if (ids.length > seq.deviceCapacity) {
            dev.free(seq.deviceTable);
            int cap = Math.max(16, Math.max(ids.length, seq.deviceCapacity * 2));
            seq.deviceTable = dev.alloc(4L * cap, "a block table");
            seq.deviceCapacity = cap;
            seq.uploaded = new int[0];
        }
        if (!Arrays.equals(ids, seq.uploaded)) {
            dev.copyToDevice(seq.deviceTable, ids, ids.length);
            seq.uploaded = ids;
        }
    }

    private static CUdeviceptr off(CUdeviceptr p, long floats) {
        return p.withByteOffset(4L * floats);
    }

    private void forwardChunk(CudaSequence seq, int[] tokens, int from, int n, int pos0, float[] logits,
                              boolean decoding) {
        ModelConfig c = config;
        int hidden = c.hiddenSize();
        int qDim = c.queryDim();
        int kvDim = c.kvDim();
        int ffn = c.intermediateSize();
        int heads = c.numHeads();
        int d = c.headDim();
        float eps = c.rmsNormEps();
        CUdeviceptr table = seq.deviceTable;
        PhaseTimes pt = phaseTimes;
        if (pt != null) {
            pt.begin();
        }

        dev.copyToDevice(tokensBuf, Arrays.copyOfRange(tokens, from, from + n), n);
        k.embed(embedding, tokensBuf, x, n, hidden);
        mark(pt, "embed");
        // q, k and v of a token side by side in one row (one GEMM), or as three matrices (three GEMMs;
        // a single token's GEMV writes [q | k | v] too, which the matrices' offsets read the same way)
        boolean rows = n > 1 && fusedQkvGemm;
        int ldq = rows ? qDim + 2 * kvDim : qDim;
        int ldkv = rows ? qDim + 2 * kvDim : kvDim;
        CUdeviceptr q = qkv;
        CUdeviceptr kk = off(qkv, rows ? qDim : (long) n * qDim);
        CUdeviceptr vv = off(qkv, rows ? qDim + kvDim : (long) n * (qDim + kvDim));

        for (int l = 0; l < layers.size(); l++) {
            Layer w = layers.get(l);
            // fp16 rows for the q|k|v GEMM on wgmma: the RMSNorm rounds them itself
            boolean roundedQkv = rows && roundsNormedRows(n, qDim + 2 * kvDim, hidden);
            if (roundedQkv) {
                k.rmsNormRowsF16(xb16, xbScales, x, w.attnNorm(), n, hidden, eps);
            } else {
                k.rmsNormRows(xb, x, w.attnNorm(), n, hidden, eps);
            }
            mark(pt, "rmsnorm");
            if (n == 1) { // fused q|k|v rows: one GEMV writes q, k, v contiguously
                k.gemv(w.wqkv(), xb, qkv, w.bqkv(), qDim + 2 * kvDim, hidden, false);
            } else if (roundedQkv) {
                k.gemmRoundedRows(xb16, xbScales, w.wqkv(), qkv, w.bqkv(), n, qDim + 2 * kvDim, hidden, ldq, false);
            } else if (rows) {
                k.gemm(xb, w.wqkv(), qkv, w.bqkv(), n, qDim + 2 * kvDim, hidden, ldq, false);
            } else {
                k.gemm(xb, w.wqkv(), q, w.bqkv(), n, qDim, hidden, qDim, false);
                k.gemm(xb, w.wqkv().withByteOffset(2L * qDim * hidden), kk,
                        w.bqkv() == null ? null : off(w.bqkv(), qDim), n, kvDim, hidden, kvDim, false);
                k.gemm(xb, w.wqkv().withByteOffset(2L * (qDim + kvDim) * hidden), vv,
                        w.bqkv() == null ? null : off(w.bqkv(), qDim + kvDim), n, kvDim, hidden, kvDim, false);
            }
            mark(pt, "q|k|v projection");
            if (w.qNorm() != null && rows) {
                k.rmsNormHeadsStrided(q, w.qNorm(), n, heads, ldq, d, eps);
                k.rmsNormHeadsStrided(kk, w.kNorm(), n, c.numKvHeads(), ldkv, d, eps);
            } else if (w.qNorm() != null) {
                k.rmsNormHeads(q, q, w.qNorm(), n * heads, d, eps);
                k.rmsNormHeads(kk, kk, w.kNorm(), n * c.numKvHeads(), d, eps);
            }
            k.kvAppend(kk, vv, ldkv, kv, table, l, pos0, n); // K without RoPE
            mark(pt, "q/k norm, kv append");

            AttentionPolicy policy = seq.policy();
            int[] selected;
            if (policy instanceof FullAttentionPolicy) {
                selected = policy.select(l, null, n, pos0 + n, decoding, null, rope);
            } else if (deviceScoringQuery && n > 1) {
                // the policy reads the chunk's scoring query, not its queries (a decode step keeps the
                // host's rotation, which the decode graph's selection matches bit for bit)
                selected = policy.select(l, null, n, pos0 + n, decoding, keyAccess(seq, q, ldq, n), rope);
            } else {
                selected = policy.select(l, hostQueries(q, ldq, n, qDim), n, pos0 + n, decoding, keyAccess(seq), rope);
            }
            if (selected == null) {
                k.attention(q, ldq, kv, table, l, null, pos0 + n, pos0, n, c.slidingWindow(), invFreq, heads, att,
                        qDim, partial, partialFloats);
            } else {
                CUdeviceptr sel = selBuf.ensure(selected.length);
                dev.copyToDevice(sel, selected, selected.length);
                if (n == 1 && CudaKernels.attentionDecodeFits(d, heads / c.numKvHeads())) {
                    k.attentionDecodeSelected(q, kv, table, l, sel, selected.length, invFreq, heads, att, partial,
                            partialFloats);
                } else {
                    k.attention(q, ldq, kv, table, l, sel, selected.length, selected.length - n, n, 0, invFreq,
                            heads, att, qDim, partial, partialFloats);
                }
            }
            mark(pt, "attention (with selection)");
            if (n == 1) {
                k.gemv(w.wo(), att, x, null, hidden, qDim, true);
            } else {
                k.gemm(att, w.wo(), x, null, n, hidden, qDim, hidden, true);
            }
            mark(pt, "o projection");

            boolean roundedGateUp = roundsNormedRows(n, 2 * ffn, hidden);
            if (roundedGateUp) {
                k.rmsNormRowsF16(xb16, xbScales, x, w.ffnNorm(), n, hidden, eps);
            } else {
                k.rmsNormRows(xb, x, w.ffnNorm(), n, hidden, eps);
            }
            mark(pt, "rmsnorm");
            // gate|up: one GEMV, or one GEMM into rows of [gate | up]; SwiGLU in place (one token) or
            // into compact rows for the down GEMM
            if (n == 1) {
                k.gemv(w.wgu(), xb, gu, null, 2 * ffn, hidden, false);
            } else if (roundedGateUp) {
                k.gemmRoundedRows(xb16, xbScales, w.wgu(), gu, null, n, 2 * ffn, hidden, 2 * ffn, false);
            } else {
                k.gemm(xb, w.wgu(), gu, null, n, 2 * ffn, hidden, 2 * ffn, false);
            }
            mark(pt, "gate|up projection");
            // fp16 rows for the down GEMM on wgmma: the SwiGLU rounds them itself (no fp32 SwiGLU in memory)
            boolean roundedGlu = roundsGluRows(n, hidden, ffn);
            if (n == 1) {
                k.swiglu(gu, off(gu, ffn), ffn);
            } else if (roundedGlu) {
                k.swigluRowsF16(gu, glu, gluScales, ffn, n);
            } else {
                k.swigluRowsTo(gu, glu, ffn, n);
            }
            mark(pt, "swiglu");
            if (n == 1) {
                k.gemv(w.wdown(), gu, x, null, hidden, ffn, true);
            } else if (roundedGlu) {
                k.gemmRoundedRows(glu, gluScales, w.wdown(), x, null, n, hidden, ffn, hidden, true);
            } else {
                k.gemm(glu, w.wdown(), x, null, n, hidden, ffn, hidden, true);
            }
            mark(pt, "down projection");
        }

        if (logits != null) {
            k.rmsNormRows(xb, off(x, (long) (n - 1) * hidden), finalNorm, 1, hidden, eps);
            k.gemv(lmHead, xb, logitsBuf, null, c.vocabSize(), hidden, false);
            k.argmax(logitsBuf, c.vocabSize(), argmaxBuf);
            dev.copyToHost(logits, logitsBuf, c.vocabSize());
            int[] am = new int[2];
            dev.copyToHost(am, argmaxBuf, 2);
            seq.lastArgmax = am[0];
            mark(pt, "lm_head, argmax");
        }
    }

    /** The chunk's n queries (row stride ldq on the device) as n x qDim floats on the host. */
    private float[] hostQueries(CUdeviceptr q, int ldq, int n, int qDim) {
        float[] rows = new float[n * ldq];
        dev.copyToHost(rows, q, rows.length - (ldq - qDim));
        if (ldq == qDim) {
            return rows;
        }
        float[] packed = new float[n * qDim];
        for (int i = 0; i < n; i++) {
            System.arraycopy(rows, i * ldq, packed, i * qDim, qDim);
        }
        return packed;
    }

    /**
     * Prefill chunks project q, k and v in one GEMM into rows of [q | k | v] (as a single token's GEMV
     * does) instead of three GEMMs into three matrices: the small k and v GEMMs (the 7B's are 512 wide)
     * leave most of the card idle. Measured on an H200: 0.5B prefill 1.22x (64,168 against 52,666
     * tokens/s), 7B 1.02x; the TokenSelect fixtures match transformers with it. On unless
     * {@code -Dtokenselect.cuda.fusedQkvGemm=false}.
     */
    private volatile boolean fusedQkvGemm = CudaSwitch.flag("fusedQkvGemm", true);

    void setFusedQkvGemm(boolean on) {
        fusedQkvGemm = on;
    }

    boolean fusedQkvGemm() {
        return fusedQkvGemm;
    }

    private static void mark(PhaseTimes pt, String phase) {
        if (pt != null) {
            pt.mark(phase);
        }
    }

    /** Set while {@link #profilePrefill} runs: forward passes mark their phases in it. */
    private volatile PhaseTimes phaseTimes;

    /**
     * Device milliseconds per phase of a prefill of {@code prompt} (a fresh sequence with full
     * attention, in the backend's chunks), summed over layers and chunks: where prefill time goes.
     */
    Map<String, Double> profilePrefill(int[] prompt) {
        PhaseTimes pt = new PhaseTimes();
        phaseTimes = pt;
        boolean done = false;
        try (CudaSequence seq = newSequence()) {
            forward(seq, prompt);
            done = true;
        } finally {
            phaseTimes = null;
            if (!done) {
                pt.finish(); // frees the events
            }
        }
        return pt.finish();
    }

    /**
     * The fp16 activations' GEMM ({@link GemmActivations#F16}) widens the bf16 weights to fp16: it is
     * only used where every weight of the GEMM matrices is a finite fp16 (hi + lo otherwise).
     */
    private void noteWeightRange(ModelConfig c) {
        long hidden = c.hiddenSize();
        long ffn = c.intermediateSize();
        k.clearAbsMax();
        for (Layer l : layers) {
            k.foldAbsMaxBf16(l.wqkv(), (c.queryDim() + 2L * c.kvDim()) * hidden);
            k.foldAbsMaxBf16(l.wo(), hidden * c.queryDim());
            k.foldAbsMaxBf16(l.wgu(), 2 * ffn * hidden);
            k.foldAbsMaxBf16(l.wdown(), hidden * ffn);
        }
        float largest = k.absMax();
        boolean wantedF16 = k.activationsInUse() == GemmActivations.F16;
        if (!k.noteWeightRange(largest) && wantedF16) {
            LOG.log(System.Logger.Level.WARNING, "a weight of " + largest + " does not fit fp16: prefill GEMMs take"
                    + " their activations as hi + lo instead of fp16");
        }
    }

    /**
     * Brings {@code layer}'s key sketches of {@code seq} up to token {@code to}: sketches the keys written
     * since it last did ({@code table}: the sequence's block table on the device).
     */
    private void sketchUpTo(CudaSequence seq, CUdeviceptr table, int layer, int to) {
        int from = seq.sketchedTo(layer);
        if (from < to) {
            k.buildSketches(kv, table, layer, from, to, sketches);
            seq.sketched(layer, to);
        }
    }

    /** Whether the pool keeps int8 sketches of its keys ({@code -Dtokenselect.cuda.keySketches=true}). */
    boolean keySketches() {
        return sketches != null;
    }

    /**
     * Selection policies of prefill chunks take the chunk's scoring query from the device (one kernel,
     * heads x d floats copied back) instead of copying every query to the host and rotating them there.
     * Measured on an H200: the 7B's TokenSelect prefill 1.85x (5,891 against 3,178 tokens/s), the
     * 0.5B's 2.54x; the TokenSelect fixtures match transformers with it. On unless
     * {@code -Dtokenselect.cuda.deviceScoringQuery=false}.
     */
    private volatile boolean deviceScoringQuery = CudaSwitch.flag("deviceScoringQuery", true);

    void setDeviceScoringQuery(boolean on) {
        deviceScoringQuery = on;
    }

    boolean deviceScoringQuery() {
        return deviceScoringQuery;
    }

    /** The policy's view of a sequence's cached keys on the device (un-rotated, bf16 read as fp32). */
    KeyAccess keyAccess(CudaSequence seq) {
        return keyAccess(seq, null, 0, 0);
    }

    /**
     * The same, and the scoring query of the prefill chunk's {@code n} queries at {@code chunkQ} (row
     * stride {@code ldq}) computed on the device; with {@code chunkQ} null the policy computes it.
     */
    private KeyAccess keyAccess(CudaSequence seq, CUdeviceptr chunkQ, int ldq, int n) {
        int heads = config.numHeads();
        int d = config.headDim();
        return new KeyAccess() {
            @Override
            public float[] scoringQuery(int chunk, int nLocal) {
                if (chunkQ == null) {
                    return null;
                }
                if (chunk != n) {
                    throw new IllegalArgumentException("the scoring query of " + chunk + " queries, the chunk has " + n);
                }
                k.scoringQuery(chunkQ, ldq, n, heads, d, nLocal, invFreq, qbarBuf);
                float[] flat = new float[heads * d];
                dev.copyToHost(flat, qbarBuf, flat.length);
                return flat;
            }

            private void uploadQbar(float[][] qbar) {
                float[] flat = new float[heads * d];
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(qbar[h], 0, flat, h * d, d);
                }
                dev.copyToDevice(qbarBuf, flat, flat.length);
            }

            /** The scores of [from, to) into the scores buffer on the device (row h at h * count). */
            private CUdeviceptr deviceScores(int layer, float[][] qbar, int from, int count) {
                uploadQbar(qbar);
                CUdeviceptr scores = scoresBuf.ensure((long) heads * count);
                k.scores(qbarBuf, kv, seq.deviceTable, layer, heads, from, count, scores);
                return scores;
            }

            @Override
            public int[] topCandidates(int layer, float[][] qbar, int from, int to, int kk, int pool) {
                return deviceSelection ? top(layer, qbar, from, to, kk, null, pool) : null;
            }

            @Override
            public int[] topCandidatesOnSketches(int layer, float[][] qbar, int from, int to, int kk, int pool) {
                if (!deviceSelection || sketches == null) {
                    return null;
                }
                sketchUpTo(seq, seq.deviceTable, layer, to);
                return top(layer, qbar, from, to, kk, sketches, pool);
            }

            /**
             * The device's selection of [from, to), scored on the keys or on their sketches ({@code sk}),
             * the vote max-pooled over {@code pool} candidates where that is above 1.
             */
            private int[] top(int layer, float[][] qbar, int from, int to, int kk, CudaKernels.Sketches sk, int pool) {
                int count = to - from;
                int want = Math.min(kk, count);
                if (want <= 0) {
                    return new int[0];
                }
                uploadQbar(qbar);
                // the selection's scratch and, behind it, the chosen indices
                long scratch = (CudaKernels.selectScratchBytes(heads, count) + 3) / 4;
                CUdeviceptr buf = scoresBuf.ensure(scratch + want);
                CUdeviceptr chosen = buf.withByteOffset(4 * scratch);
                int n = k.selectOnDevice(qbarBuf, kv, seq.deviceTable, layer, heads, from, count, want, 0, to, 0, buf,
                        chosen, null, sk, pool);
                int[] top = new int[n];
                dev.copyToHost(top, chosen, n);
                return top;
            }

            @Override
            public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
                int count = to - from;
                if (count <= 0) {
                    return;
                }
                CUdeviceptr scores = deviceScores(layer, qbar, from, count);
                float[] host = new float[Math.toIntExact((long) heads * count)];
                dev.copyToHost(host, scores, host.length);
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(host, h * count, out[h], 0, count);
                }
            }

            @Override
            public void key(int layer, int kvHead, int token, float[] out, int off) {
                BlockTable t = seq.blockTable();
                long elem = (long) t.blockOf(token) * kv.blockElems()
                        + ((long) (2 * layer) * kv.kvHeads() + kvHead) * kv.blockSize() * d
                        + (long) t.slotOf(token) * d;
                short[] raw = new short[d];
                dev.copyToHost(raw, kv.pool().withByteOffset(2 * elem), d);
                for (int i = 0; i < d; i++) {
                    out[off + i] = Bf16.toFloat(raw[i]);
                }
            }

            /** One copy per block: a KV head's keys of one block are bs contiguous rows. */
            @Override
            public void keys(int layer, int kvHead, int from, int to, int headDim, float[] out) {
                BlockTable t = seq.blockTable();
                short[] raw = new short[kv.blockSize() * d];
                for (int tok = from; tok < to; ) {
                    int slot = t.slotOf(tok);
                    int run = Math.min(to - tok, kv.blockSize() - slot);
                    long elem = (long) t.blockOf(tok) * kv.blockElems()
                            + ((long) (2 * layer) * kv.kvHeads() + kvHead) * kv.blockSize() * d + (long) slot * d;
                    dev.copyToHost(raw, kv.pool().withByteOffset(2 * elem), run * d);
                    int base = (tok - from) * d;
                    for (int i = 0; i < run * d; i++) {
                        out[base + i] = Bf16.toFloat(raw[i]);
                    }
                    tok += run;
                }
            }
        };
    }

    /** The pool's geometry (block layout as the prefix cache sees it, in fp32). */
    public KvGeometry kvGeometry() {
        return geometry;
    }

    /** The allocator of the device pool's blocks (the prefix cache registers its reclaimer here). */
    public BlockAllocator allocator() {
        return allocator;
    }

    /** Bytes of one block of the device pool (bf16, layout of {@link KvGeometry}). */
    public long poolBlockBytes() {
        return blockBytes;
    }

    /**
     * Copies block {@code blockId} of the device pool into {@code dst} as it is stored: bf16, so the
     * prefix cache's host tier and segment files hold half of what fp32 would take.
     */
    public void copyBlockOut(int blockId, MemorySegment dst) {
        lock.lock();
        try {
            checkOpen();
            dev.makeCurrent();
            dev.copyToHost(dst, kv.pool().withByteOffset(blockId * blockBytes), blockBytes);
        } finally {
            lock.unlock();
        }
    }

    /** Overwrites block {@code blockId} of the device pool with the bf16 block {@code src} ({@link #poolBlockBytes()}). */
    public void copyBlockIn(int blockId, MemorySegment src) {
        lock.lock();
        try {
            checkOpen();
            dev.makeCurrent();
            dev.copyToDevice(kv.pool().withByteOffset(blockId * blockBytes), src, blockBytes);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Programmatic dependent launch of the kernels of replayed decode steps (sm_90+): each kernel is
     * scheduled while the one before drains and prefetches its weights before it waits. Off by default
     * until checked and timed on a GPU ({@code -Dtokenselect.cuda.programmaticLaunch=true}); the
     * captured graphs are dropped and recaptured.
     */
    void setProgrammaticLaunch(boolean on) {
        changeCapturedPath(() -> {
            dev.makeCurrent();
            dev.setProgrammaticLaunch(on);
        });
    }

    boolean programmaticLaunch() {
        return dev.programmaticLaunch();
    }

    boolean programmaticLaunchPossible() {
        return dev.programmaticLaunchPossible();
    }

    /**
     * Decode attention on the tensor cores instead of the fp32 kernel (see {@link CudaKernels}); the
     * captured graphs hold the old kernel, so they are dropped and recaptured.
     */
    void setTensorCoreDecode(boolean on) {
        changeCapturedPath(() -> k.setTensorCoreDecode(on));
    }

    /** The decode attention kernel (see {@link CudaKernels#useDecodePath}); the captured graphs are recaptured. */
    void useDecodePath(DecodeAttentionPrecision p) {
        changeCapturedPath(() -> k.useDecodePath(p));
    }

    DecodeAttentionPrecision decodePrecision() {
        return k.decodePrecision();
    }

    /** Whether decode attention (and attention over a TokenSelect list) runs on the tensor-core kernels for this model. */
    boolean tensorCoreDecode() {
        return k.usesTensorCoreDecode(config.headDim());
    }

    /**
     * TokenSelect's vote and top-k on the device, so a selection copies k indices to the host instead
     * of heads x candidates scores. On by default: its selections equal the CPU reference's (2048 of
     * 2048 at 32K candidates) and the TokenSelect fixtures decode the same greedy tokens either way.
     */
    void setDeviceSelection(boolean on) {
        deviceSelection = on;
    }

    /** Batched decode GEMVs on the tensor cores ({@link CudaKernels#tensorCoreBatches}); recaptures the graphs. */
    void setTensorCoreBatches(boolean on) {
        changeCapturedPath(() -> k.setTensorCoreBatches(on));
    }

    /** Several weight rows per warp in batched GEMVs of 5 to 8 vectors (see {@link CudaKernels}); recaptures the graphs. */
    void setMultiRowBatches(boolean on) {
        changeCapturedPath(() -> k.setMultiRowBatches(on));
    }

    private void dropGraphs() {
        for (CUgraphExec g : decodeGraphs.values()) {
            dev.destroy(g);
        }
        decodeGraphs.clear();
        dropSelectedGraphs();
    }

    private void dropSelectedGraphs() {
        for (CUgraphExec g : selectedGraphs.values()) {
            dev.destroy(g);
        }
        selectedGraphs.clear();
    }

    void setGraphSelection(boolean on) {
        graphSelection = on;
    }

    boolean graphSelection() {
        return graphSelection;
    }

    /** Whether a decode step of this sequence replays the TokenSelect graph ({@link SelectedDecode}). */
    private boolean selectedReplayable(CudaSequence seq) {
        if (!(graphSelection && graphsEnabled && graphShapes && deviceSelection
                && seq.policy() instanceof TokenSelectPolicy policy)) {
            return false;
        }
        int d = config.headDim();
        return (d == 64 || d == 128) && CudaKernels.attentionDecodeFits(d, config.numHeads() / config.numKvHeads())
                && config.slidingWindow() <= 0 && policy.params().k() > 0
                && (!policy.params().int8Keys() || sketches != null)
                && seq.blockTable().length() + 1 > policy.params().budget();
    }

    /**
     * One TokenSelect decode step of one sequence through its captured graph; its logits go to
     * {@code logits[at]} and its ranked candidates to {@code candidates[at]} where those are given, the
     * argmax to {@code lastArgmax}.
     */
    private void decodeSelectedReplayed(CudaSequence seq, int token, float[][] logits, Candidates[] candidates,
                                        int at) {
        boolean ranked = candidates != null;
        TokenSelectPolicy policy = (TokenSelectPolicy) seq.policy();
        SelectionParams p = policy.params();
        lock.lock();
        try {
            checkOpen();
            dev.makeCurrent();
            BlockTable table = seq.blockTable();
            int pos = table.length();
            table.reserve(pos + 1L);
            try {
                uploadTableRow(0, table.blockIds());
                dev.copyToDevice(stepBuf, new int[] {token, pos}, 2);
                if (!selected.bind(seq, policy)) {
                    dropSelectedGraphs();
                }
                int count = pos + 1 - p.nInit() - p.nLocal();
                int capacity = Math.max(4096, Integer.highestOneBit(count - 1) << 1);
                if (selected.ensureScratch(capacity)) {
                    dropSelectedGraphs();
                }
                CudaKernels.Sketches sk = p.int8Keys() ? sketches : null;
                if (sk != null) { // keys written since the last step (a prompt, a restored prefix) first
                    for (int l = 0; l < config.numLayers(); l++) {
                        sketchUpTo(seq, tablesBuf, l, pos);
                    }
                }
                long key = ((long) capacity << 2) | (sk != null ? 2 : 0) | (ranked ? 1 : 0);
                CUgraphExec graph = selectedGraphs.get(key);
                if (graph == null) {
                    graph = dev.capture(() -> {
                        for (DecodeOp op : decodeOps(1, -1, layer -> selected.record(layer, capacity, qkv, kv,
                                tablesBuf, stepBuf, invFreq, qbarBuf, att, partial, partialFloats, sk))) {
                            op.launch().run();
                        }
                        if (ranked) {
                            recordCandidates(1);
                        }
                    });
                    selectedGraphs.put(key, graph);
                }
                dev.replay(graph);
                int[] am = new int[2];
                dev.copyToHost(am, argmaxBuf, 2);
                copyOut(1, logits, candidates, at);
                seq.lastArgmax = am[0];
                int[] counts = selected.takeCounts();
                policy.recordDeviceStep(pos + 1, counts[0], counts[1], counts[2]);
                table.setLength(pos + 1);
                if (sk != null) { // the step sketched the key it appended
                    seq.sketchedAll(config.numLayers(), pos + 1);
                }
            } catch (RuntimeException | Error e) {
                table.truncate(pos);
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Turns graph replay of decode steps on or off (benchmarks compare both on one loaded model). */
    void setCudaGraphs(boolean on) {
        graphsEnabled = on;
    }

    /** Whether this model's decode steps can be replayed from graphs (shapes the decode kernels take). */
    boolean graphShapes() {
        return graphShapes;
    }

    /** Weight bytes a decode step reads: everything but an untied embedding (only one row of it is read). */
    long decodeWeightBytes() {
        return lmHead == embedding ? weightBytes : weightBytes - 2L * config.vocabSize() * config.hiddenSize();
    }

    /** KV bytes one cached token takes on the device (all layers, K and V, bf16). */
    long kvBytesPerToken() {
        return blockBytes / options.blockSize();
    }

    /**
     * Gives {@code seq} {@code length} cached tokens whose K/V are the bf16 {@code bits} pattern,
     * without a prefill: decode speed at a depth does not depend on the cached values (benchmarks).
     */
    void fillForBenchmark(CudaSequence seq, int length, int bits) {
        lock.lock();
        try {
            dev.makeCurrent();
            BlockTable table = seq.blockTable();
            int start = table.length();
            table.reserve(length);
            int[] ids = table.blockIds();
            for (int b = start / options.blockSize(); b < ids.length; b++) {
                dev.fill32(kv.pool().withByteOffset(ids[b] * blockBytes), bits, blockBytes / 4);
            }
            table.setLength(length);
        } finally {
            lock.unlock();
        }
    }

    /** Frees a closed sequence's device block table. */
    void release(CudaSequence seq) {
        if (seq.deviceTable == null) {
            return;
        }
        lock.lock();
        try {
            selected.release(seq);
            if (!closed) {
                dev.makeCurrent();
                dev.free(seq.deviceTable);
            }
            seq.deviceTable = null;
            seq.deviceCapacity = 0;
        } finally {
            lock.unlock();
        }
    }

    private CudaSequence own(Sequence sequence) {
        if (!(sequence instanceof CudaSequence s) || s.backend() != this) {
            throw new IllegalArgumentException("the sequence was not created by this backend");
        }
        if (s.isClosed()) {
            throw new IllegalStateException("the sequence is closed");
        }
        return s;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed");
        }
    }

    /** A summary line for logs: device, weights, KV capacity. */
    public String summary() {
        long hostBlocks = allocator.numBlocks() - deviceKvBlocks;
        return String.format(Locale.ROOT, "%s; weights %.1f MB bf16; KV pool %,d tokens (%.1f MB, bf16)%s", device(),
                weightBytes / 1e6, kvCapacityTokens(), allocator.numBlocks() * (double) blockBytes / 1e6,
                hostBlocks > 0 ? String.format(Locale.ROOT, ", %,d of them in pinned host memory",
                        hostBlocks * allocator.blockSize()) : "");
    }

    /** Frees every device allocation (weights, KV pool, activations) and releases the context. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            allocator.close();
            dev.close();
        } finally {
            lock.unlock();
        }
    }
}
