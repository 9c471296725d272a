package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraphExec;

/**
 * Per-layer decode attention time of one query token over a long paged cache, Qwen2-7B geometry (28
 * query heads, 4 KV heads, d 128, bf16 cache): full attention with the decode kernels, and TokenSelect
 * on a selection-cache miss (score every candidate key, head soft vote, top-k, attend to the selection)
 * and on a hit (attend to the cached selection; also timed with the fp32 kernel over the list). Every variant is one captured CUDA graph, replayed
 * back to back and timed with events, so launch overhead is what a captured decode step pays.
 * Before timing, the device's selection at the first context is compared with the CPU reference
 * ({@link SelectionReference}) on the same keys and query.
 *
 * <pre>java -cp tokenselect-engine-cli.jar dev.tokenselect.engine.backend.cuda.CudaAttentionBench \
 *     [--contexts 32768,131072,524288,1048576] [--k 2048] [--iters 200] [--block-size 16]</pre>
 */
public final class CudaAttentionBench {

    private static final int HEADS = 28;
    private static final int KV_HEADS = 4;
    private static final int D = 128;
    private static final int DEFAULT_BLOCK_SIZE = 16;
    private static final double THETA = 1_000_000.0;
    /** Distinct random bf16 values the pool is tiled with (64 MiB): every key of a 32K context is distinct. */
    private static final int PATTERN = 1 << 25;

    private final CudaDevice dev;
    private final CudaKernels k;
    private final int topK;
    private final int nInit;
    private final int nLocal;
    private final int iters;
    /** Tokens per KV block: each block holds a contiguous run of bs keys (and of values) per KV head. */
    private final int bs;
    private final short[] pattern;
    private final Random rnd = new Random(7);
    private int failures;
    private final List<String> stageLines = new ArrayList<>();
    private final List<String> chunkLines = new ArrayList<>();
    /** Candidates per block of the radix top-k, timed side by side. */
    private static final int[] TOPK_CHUNKS = {1024, 2048, 4096, 8192, SelectChunk.AUTO};
    private final List<String> sketchLines = new ArrayList<>();
    private final List<String> pipelinedLines = new ArrayList<>();
    /** Full attention and a hit with the tiles by bulk copies beside cp.async, where the sm_90a module is loaded. */
    private final List<String> bulkLines = new ArrayList<>();
    /** Each tensor-copy scheme beside itself with the lean rotation. */
    private final List<String> leanLines = new ArrayList<>();

    private CudaAttentionBench(CudaDevice dev, int topK, int nInit, int nLocal, int iters, int bs) {
        this.dev = dev;
        this.bs = bs;
        this.k = new CudaKernels(dev);
        this.topK = topK;
        this.nInit = nInit;
        this.nLocal = nLocal;
        this.iters = iters;
        this.pattern = new short[PATTERN];
        for (int i = 0; i < PATTERN; i++) {
            pattern[i] = Bf16.fromFloat((float) (rnd.nextGaussian() * 0.5));
        }
    }

    public static void main(String[] args) {
        int[] contexts = {32_768, 131_072, 524_288, 1_048_576};
        int topK = 2048;
        int iters = 200;
        int blockSize = DEFAULT_BLOCK_SIZE;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--block-size" -> blockSize = Integer.parseInt(args[++i]);
                case "--contexts" -> contexts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--k" -> topK = Integer.parseInt(args[++i]);
                case "--iters" -> iters = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (use --contexts N,N,... --k K --iters N --block-size N)");
            }
        }
        try (CudaDevice dev = CudaDevice.open(0)) {
            System.out.println("device: " + dev.describe());
            CudaAttentionBench bench = new CudaAttentionBench(dev, topK, 128, 512, iters, blockSize);
            List<String> rows = new ArrayList<>();
            boolean first = true;
            for (int len : contexts) {
                rows.add(bench.context(len, first));
                first = false;
            }
            System.out.printf(Locale.ROOT, "%nper-layer decode attention, %d query heads, %d KV heads, d %d, bf16 cache"
                    + " in blocks of %d tokens; TokenSelect k %d + %d sinks + %d local; median of %d graph replays%n",
                    HEADS, KV_HEADS, D, blockSize, topK, 128, 512, iters);
            System.out.println("| context | full, fp32 decode kernel | full, tensor-core decode kernel, hi-lo scores"
                    + " | full, tensor-core, f16 scores | full (best): KV GB/s | TokenSelect miss (select + attend)"
                    + " | of which selection"
                    + " (score, vote, top-k) | TokenSelect hit (attend) | hit, fp32 list kernel | full / miss"
                    + " | full / hit |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            rows.forEach(System.out::println);
            System.out.println();
            System.out.println("| context | scores + softmax states | head vote | radix top-k + list | selection"
                    + " | full, f16 | selection on int8 sketches | the same, vote pooled over 3 | pooled / not |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            bench.stageLines.forEach(System.out::println);
            System.out.println();
            StringBuilder chunkHeader = new StringBuilder("| context |");
            StringBuilder chunkRule = new StringBuilder("|---:|");
            for (int c : TOPK_CHUNKS) {
                chunkHeader.append(c == SelectChunk.AUTO ? " top-k, auto | miss on sketches |"
                        : String.format(Locale.ROOT, " top-k, %,d per block | miss on sketches |", c));
                chunkRule.append("---:|---:|");
            }
            System.out.println(chunkHeader + " full (best) | full / miss on sketches, auto |");
            System.out.println(chunkRule + "---:|---:|");
            bench.chunkLines.forEach(System.out::println);
            System.out.println();
            System.out.println("| context | sketching every key once | selection | selection on int8 sketches | miss"
                    + " | miss on sketches | full / miss | full / miss on sketches |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
            bench.sketchLines.forEach(System.out::println);
            System.out.println();
            System.out.println("| context | selection, register-fed scores | selection, pipelined scores | register-fed / pipelined"
                    + " | on sketches, register-fed | on sketches, pipelined | register-fed / pipelined | miss, pipelined"
                    + " | full / miss | miss on sketches, pipelined | full / miss on sketches"
                    + " | on sketches, int8 products | miss, int8 products | full / miss, int8 products |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            bench.pipelinedLines.forEach(System.out::println);
            if (!bench.bulkLines.isEmpty()) {
                System.out.println();
                System.out.println("| context | full, f16 (cp.async) | full, f16, bulk copies | cp.async / bulk"
                        + " | full, f16, tensor copies | cp.async / tensor copies | tensor copies, table a tile ahead"
                        + " | tensor copies / ahead | tensor copies by a fifth warp | tensor copies / fifth warp"
                        + " | tensor copies, rounded rotation and eager rescale | eager / tensor copies"
                        + " | hit (cp.async) | hit, bulk copies | cp.async / bulk |");
                System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                bench.bulkLines.forEach(System.out::println);
                System.out.println();
                System.out.println("| context | tensor copies | the same, lean rotation | plain / lean | table a tile ahead"
                        + " | the same, lean | plain / lean | fifth warp | the same, lean | plain / lean |");
                System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                bench.leanLines.forEach(System.out::println);
            }
            if (bench.failures > 0) {
                System.out.println("FAIL " + bench.failures + " selection check(s) failed");
                System.exit(1);
            }
        }
    }

    /** Times every variant at one context length; returns its table row. */
    private String context(int len, boolean checkSelection) {
        int blocks = (len + bs - 1) / bs;
        long blockElems = 2L * KV_HEADS * bs * D; // one layer
        CUdeviceptr pool = dev.alloc(2 * blockElems * blocks, "KV pool of " + len + " tokens");
        List<CUdeviceptr> owned = new ArrayList<>(List.of(pool));
        try {
            fill(pool, blockElems * blocks);
            int[] table = SelectionReference.shuffledTable(blocks, rnd);
            CUdeviceptr tableDev = track(owned, dev.upload(table, "block table"));
            CudaKernels.Kv kv = new CudaKernels.Kv(pool, blockElems, bs, KV_HEADS, D, blocks);
            float[] inv = new float[D / 2];
            for (int i = 0; i < D / 2; i++) {
                inv[i] = (float) (1.0 / Math.pow(THETA, 2.0 * i / D));
            }
            CUdeviceptr invFreq = track(owned, dev.upload(inv, "inverse frequencies"));
            float[] q = randn(HEADS * D);
            CUdeviceptr qDev = track(owned, dev.upload(q, "query"));
            CUdeviceptr out = track(owned, dev.alloc(4L * HEADS * D, "attention output"));
            int maxSplits = 1024;
            long partialCap = CudaKernels.partialFloats(maxSplits, 1, HEADS, D);
            CUdeviceptr partial = track(owned, dev.alloc(4 * partialCap, "split-K partials"));
            CUdeviceptr step = track(owned, dev.upload(new int[] {0, len - 1}, "step"));

            // full attention: the decode step's kernel and split count (as CudaBackend.decodeSplits)
            float fullFp32 = timeFull(kv, tableDev, step, invFreq, qDev, out, partial, maxSplits, len, null);
            float fullTc = timeFull(kv, tableDev, step, invFreq, qDev, out, partial, maxSplits, len,
                    DecodeAttentionPrecision.HI_LO);
            float fullF16 = timeFull(kv, tableDev, step, invFreq, qDev, out, partial, maxSplits, len,
                    DecodeAttentionPrecision.F16);
            float fullBest = Math.min(fullFp32, Math.min(fullTc, fullF16));

            // TokenSelect: candidates are [nInit, len - nLocal)
            int from = nInit;
            int count = len - nInit - nLocal;
            int entries = nInit + Math.min(topK, count) + nLocal;
            CUdeviceptr scratch = track(owned, dev.alloc(CudaKernels.selectScratchBytes(HEADS, count), "selection scratch"));
            CUdeviceptr sel = track(owned, dev.alloc(4L * entries, "selection"));
            Runnable select = () -> k.selectOnDevice(qDev, kv, tableDev, 0, HEADS, from, count, topK, nInit, len, nLocal,
                    scratch, sel);
            Runnable attend = () -> k.attentionDecodeSelected(qDev, kv, tableDev, 0, sel, entries, invFreq, HEADS, out,
                    partial, partialCap);
            select.run();
            dev.synchronize();
            if (checkSelection) {
                checkSelection(q, table, blockElems, from, count, sel, entries, len, false,
                        k.scoringPass().label() + " scoring pass, top-k chunk " + SelectChunk.label(k.selectChunk()));
            }
            float tSelect = time(select);
            // int8 key sketches (built once here; KeySketch specifies them): the selection scored on them
            CudaKernels.Sketches sk = CudaKernels.Sketches.allocate(dev, kv, 1, blocks);
            track(owned, sk.bytes());
            track(owned, sk.scales());
            float tBuild = time(() -> k.buildSketches(kv, tableDev, 0, 0, len, sk));
            Runnable selectSketched = () -> k.selectOnDevice(qDev, kv, tableDev, 0, HEADS, from, count, topK, nInit,
                    len, nLocal, scratch, sel, null, sk);
            float[] sketched = checkedSelection(checkSelection, selectSketched, attend, q, table, blockElems, from,
                    count, sel, entries, len, true);
            float tSelectSketched = sketched[0];
            float missSketched = sketched[1];
            // the two selections with each scoring pass (the same selection; bf16 scores bit for bit: the self-test)
            ScoringPass passBefore = k.scoringPass();
            k.setScoringPass(ScoringPass.REGISTER_FED);
            float tSelectReg = time(select);
            float tSelectSketchedReg = time(selectSketched);
            k.setScoringPass(ScoringPass.PIPELINED);
            float[] pipe = checkedSelection(checkSelection, select, attend, q, table, blockElems, from, count, sel,
                    entries, len, false);
            float[] pipeSketched = checkedSelection(checkSelection, selectSketched, attend, q, table, blockElems, from,
                    count, sel, entries, len, true);
            k.setScoringPass(ScoringPass.PIPELINED_INT8);
            float[] i8Sketched = checkedSelection(checkSelection, selectSketched, attend, q, table, blockElems, from,
                    count, sel, entries, len, true);
            k.setScoringPass(passBefore);
            // the vote max-pooled over 3 candidates before the top-k (pool=3): its cost on sketches
            float tSelectPooled = time(() -> k.selectOnDevice(qDev, kv, tableDev, 0, HEADS, from, count, topK, nInit,
                    len, nLocal, scratch, sel, null, sk, 3));
            select.run(); // the exact selection back in place for the hit timings below
            dev.synchronize();
            // the selection's stages apart
            Runnable[] stages = k.selectionStages(qDev, kv, tableDev, 0, HEADS, from, count, topK, nInit, len, nLocal,
                    scratch, sel);
            float tScores = time(stages[0]);
            float tVote = time(stages[1]);
            float tTopK = time(stages[2]);
            stageLines.add(String.format(Locale.ROOT, "| %,d | %.4f ms | %.4f ms | %.4f ms | %.4f ms | %.4f ms"
                    + " | %.4f ms | %.4f ms | %.2fx |", len, tScores, tVote, tTopK, tSelect, fullF16, tSelectSketched,
                    tSelectPooled, tSelectPooled / tSelectSketched));
            // the radix top-k with each chunk of candidates per block: its time alone, and a miss on sketches
            // (the selection checked against the CPU reference where checks are on)
            int chunkBefore = k.selectChunk();
            StringBuilder chunkLine = new StringBuilder(String.format(Locale.ROOT, "| %,d |", len));
            float autoMiss = Float.NaN;
            try {
                for (int c : TOPK_CHUNKS) {
                    k.setSelectChunk(c);
                    float tk = time(stages[2]);
                    float[] chunked = checkedSelection(checkSelection, selectSketched, attend, q, table, blockElems,
                            from, count, sel, entries, len, true);
                    if (c == SelectChunk.AUTO) {
                        autoMiss = chunked[1];
                    }
                    chunkLine.append(String.format(Locale.ROOT, " %.4f ms | %.4f ms |", tk, chunked[1]));
                }
            } finally {
                k.setSelectChunk(chunkBefore);
            }
            chunkLines.add(chunkLine + String.format(Locale.ROOT, " %.4f ms | %.2fx |", fullBest, fullBest / autoMiss));
            select.run(); // the exact selection back in place
            dev.synchronize();
            k.useDecodePath(null); // the fp32 kernel over the list, for comparison
            float hitFp32 = time(attend);
            k.setTensorCoreDecode(CudaKernels.TENSOR_CORE_DECODE_DEFAULT);
            k.setDecodePrecision(DecodeAttentionPrecision.fromSystemProperty());
            float miss = time(() -> {
                select.run();
                attend.run();
            });
            float hit = time(attend);
            if (k.bulkDecodeAvailable()) { // the tiles by bulk or tensor copies, side by side (checks: the self-test)
                boolean bulk = k.bulkDecodeCopies();
                TensorCopyDecode tensor = k.tensorCopyDecode();
                try {
                    k.setBulkDecodeCopies(false);
                    k.setTensorCopyDecode(TensorCopyDecode.OFF);
                    float fullCpAsync = timeFull(kv, tableDev, step, invFreq, qDev, out, partial, maxSplits, len,
                            DecodeAttentionPrecision.F16);
                    float hitCpAsync = time(attend);
                    k.setBulkDecodeCopies(true);
                    float fullBulk = timeFull(kv, tableDev, step, invFreq, qDev, out, partial, maxSplits, len,
                            DecodeAttentionPrecision.F16);
                    float hitBulk = time(attend);
                    k.setBulkDecodeCopies(false);
                    float fullTensor = timeTensorCopies(TensorCopyDecode.PAGES, kv, tableDev, step, invFreq, qDev, out,
                            partial, maxSplits, len);
                    float fullAhead = timeTensorCopies(TensorCopyDecode.AHEAD, kv, tableDev, step, invFreq, qDev, out,
                            partial, maxSplits, len);
                    float fullProducer = timeTensorCopies(TensorCopyDecode.PRODUCER_WARP, kv, tableDev, step, invFreq,
                            qDev, out, partial, maxSplits, len);
                    float fullEager = timeTensorCopies(TensorCopyDecode.PAGES_EAGER, kv, tableDev, step, invFreq,
                            qDev, out, partial, maxSplits, len);
                    float pagesLean = timeTensorCopies(TensorCopyDecode.PAGES_LEAN, kv, tableDev, step, invFreq,
                            qDev, out, partial, maxSplits, len);
                    float aheadLean = timeTensorCopies(TensorCopyDecode.AHEAD_LEAN, kv, tableDev, step, invFreq,
                            qDev, out, partial, maxSplits, len);
                    float producerLean = timeTensorCopies(TensorCopyDecode.PRODUCER_WARP_LEAN, kv, tableDev, step,
                            invFreq, qDev, out, partial, maxSplits, len);
                    bulkLines.add(String.format(Locale.ROOT, "| %,d | %.4f ms | %.4f ms | %.2fx | %.4f ms | %.2fx"
                            + " | %.4f ms | %.2fx | %.4f ms | %.2fx | %.4f ms | %.2fx | %.4f ms | %.4f ms | %.2fx |", len,
                            fullCpAsync, fullBulk, fullCpAsync / fullBulk, fullTensor, fullCpAsync / fullTensor, fullAhead,
                            fullTensor / fullAhead, fullProducer, fullTensor / fullProducer, fullEager,
                            fullEager / fullTensor, hitCpAsync, hitBulk, hitCpAsync / hitBulk));
                    leanLines.add(String.format(Locale.ROOT, "| %,d | %.4f ms | %.4f ms | %.2fx | %.4f ms | %.4f ms"
                            + " | %.2fx | %.4f ms | %.4f ms | %.2fx |", len, fullTensor, pagesLean, fullTensor / pagesLean,
                            fullAhead, aheadLean, fullAhead / aheadLean, fullProducer, producerLean,
                            fullProducer / producerLean));
                } finally {
                    k.setBulkDecodeCopies(bulk);
                    k.setTensorCopyDecode(tensor);
                    k.setDecodePrecision(DecodeAttentionPrecision.fromSystemProperty());
                }
            }
            sketchLines.add(String.format(Locale.ROOT, "| %,d | %.4f ms | %.4f ms | %.4f ms | %.4f ms | %.4f ms | %.2fx"
                    + " | %.2fx |", len, tBuild, tSelect, tSelectSketched, miss, missSketched, fullBest / miss,
                    fullBest / missSketched));
            pipelinedLines.add(String.format(Locale.ROOT, "| %,d | %.4f ms | %.4f ms | %.2fx | %.4f ms | %.4f ms | %.2fx"
                    + " | %.4f ms | %.2fx | %.4f ms | %.2fx | %.4f ms | %.4f ms | %.2fx |", len, tSelectReg, pipe[0],
                    tSelectReg / pipe[0], tSelectSketchedReg, pipeSketched[0], tSelectSketchedReg / pipeSketched[0],
                    pipe[1], fullBest / pipe[1], pipeSketched[1], fullBest / pipeSketched[1], i8Sketched[0], i8Sketched[1],
                    fullBest / i8Sketched[1]));
            double gbps = 2.0 * KV_HEADS * len * D * 2 / (fullBest * 1e-3) / 1e9;
            System.out.printf(Locale.ROOT, "context %,d: full %.4f / %.4f / %.4f ms (fp32 / tensor cores hi-lo / f16),"
                    + " miss %.4f ms (selection %.4f), hit %.4f ms (fp32 list kernel %.4f ms)%n", len, fullFp32, fullTc,
                    fullF16, miss, tSelect, hit, hitFp32);
            return String.format(Locale.ROOT, "| %,d | %.4f ms | %.4f ms | %.4f ms | %.0f | %.4f ms | %.4f ms | %.4f ms"
                    + " | %.4f ms | %.2fx | %.1fx |", len, fullFp32, fullTc, fullF16, gbps, miss, tSelect, hit, hitFp32,
                    fullBest / miss, fullBest / hit);
        } finally {
            for (CUdeviceptr p : owned) {
                dev.free(p);
            }
            k.setTensorCoreDecode(CudaKernels.TENSOR_CORE_DECODE_DEFAULT);
            k.setDecodePrecision(DecodeAttentionPrecision.fromSystemProperty());
        }
    }

    /** Full attention at f16 with the tensor-copy {@code scheme}; NaN where it cannot run. */
    private float timeTensorCopies(TensorCopyDecode scheme, CudaKernels.Kv kv, CUdeviceptr table, CUdeviceptr step,
                                   CUdeviceptr invFreq, CUdeviceptr q, CUdeviceptr out, CUdeviceptr partial,
                                   int maxSplits, int len) {
        k.setTensorCopyDecode(scheme);
        return k.tensorCopyDecodeInUse(kv) ? timeFull(kv, table, step, invFreq, q, out, partial, maxSplits, len,
                DecodeAttentionPrecision.F16) : Float.NaN;
    }

    private float timeFull(CudaKernels.Kv kv, CUdeviceptr table, CUdeviceptr step, CUdeviceptr invFreq,
                           CUdeviceptr q, CUdeviceptr out, CUdeviceptr partial, int maxSplits, int len,
                           DecodeAttentionPrecision tc) {
        k.useDecodePath(tc);
        int nsplit = CudaKernels.decodeSplitCount(len, k.decodeTileKeys(D), KV_HEADS,
                CudaKernels.DEFAULT_DECODE_BLOCKS_PER_SM * dev.multiprocessors(), maxSplits);
        return time(() -> k.attentionDecode(q, HEADS * D, kv, table, 0, 0, step, 1, 0, invFreq, HEADS, nsplit, out,
                HEADS * D, partial));
    }

    /** Median over {@code iters} replays (in groups of 10) of a graph of {@code work}. */
    private float time(Runnable work) {
        CUgraphExec graph = dev.capture(work);
        try {
            for (int i = 0; i < 10; i++) {
                dev.replay(graph);
            }
            dev.synchronize();
            CudaDevice.Timer timer = dev.timer();
            float[] per = new float[Math.max(1, iters / 10)];
            for (int r = 0; r < per.length; r++) {
                timer.start();
                for (int i = 0; i < 10; i++) {
                    dev.replay(graph);
                }
                per[r] = timer.stopMillis() / 10;
            }
            timer.destroy();
            Arrays.sort(per);
            return per[per.length / 2];
        } finally {
            dev.destroy(graph);
        }
    }

    /**
     * A selection under the scoring pass set now, checked against the CPU reference where checks are on:
     * {its time, a miss's time (the selection, then attention over the list)}.
     */
    private float[] checkedSelection(boolean check, Runnable select, Runnable attend, float[] q, int[] table,
                                     long blockElems, int from, int count, CUdeviceptr sel, int entries, int len,
                                     boolean sketched) {
        select.run();
        dev.synchronize();
        if (check) {
            checkSelection(q, table, blockElems, from, count, sel, entries, len, sketched,
                    k.scoringPass().label() + " scoring pass, top-k chunk " + SelectChunk.label(k.selectChunk()));
        }
        float tSelect = time(select);
        float miss = time(() -> {
            select.run();
            attend.run();
        });
        return new float[] {tSelect, miss};
    }

    /**
     * The device's selected entries against the CPU reference ({@link SelectionReference}) on the same
     * keys, or on their int8 sketches (each quantised by KeySketch from the same bf16 values).
     */
    private void checkSelection(float[] q, int[] table, long blockElems, int from, int count, CUdeviceptr sel,
                                int entries, int len, boolean sketched, String pass) {
        int[] got = new int[entries];
        dev.copyToHost(got, sel, entries);
        SelectionReference.Keys keys = (t, g, e) -> {
            long off = table[t / bs] * blockElems + (long) g * bs * D + (long) (t % bs) * D;
            return Bf16.toFloat(pattern[(int) ((off + e) % PATTERN)]);
        };
        SelectionReference.Result r = SelectionReference.compare(q, HEADS, KV_HEADS, D, sketched ? keys.sketched(D) : keys,
                from, count, topK, nInit, nLocal, len, got, false, 0);
        System.out.printf(Locale.ROOT, "%s device selection%s (%s) vs CPU reference at %,d tokens: %d of %d"
                + " candidates equal, %d near-ties, %d wrong entries%n", r.ok() ? "PASS" : "FAIL",
                sketched ? " on int8 sketches" : "", pass, len,
                r.same(), Math.min(topK, count), r.nearTies(), r.wrong());
        if (!r.ok()) {
            failures++;
        }
    }

    private void fill(CUdeviceptr pool, long elems) {
        CUdeviceptr src = dev.alloc(2L * PATTERN, "random bf16 pattern");
        try {
            for (int off = 0; off < PATTERN; off += 1 << 22) {
                dev.copyToDevice(src.withByteOffset(2L * off), Arrays.copyOfRange(pattern, off, off + (1 << 22)), 1 << 22);
            }
            for (long at = 0; at < elems; at += PATTERN) {
                dev.copyDeviceToDevice(pool.withByteOffset(2 * at), src, 2 * Math.min(PATTERN, elems - at));
            }
            dev.synchronize();
        } finally {
            dev.free(src);
        }
    }

    private float[] randn(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static CUdeviceptr track(List<CUdeviceptr> owned, CUdeviceptr p) {
        owned.add(p);
        return p;
    }
}
