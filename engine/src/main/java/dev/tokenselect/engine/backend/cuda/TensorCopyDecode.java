package dev.tokenselect.engine.backend.cuda;

/**
 * How full decode attention's tiles reach shared memory where tensor copies can serve (sm_90a, head dim
 * 128, block sizes {@link CudaKernels#tensorCopyDecodeFits} takes; elsewhere the 16-byte cp.async or
 * bulk-copy kernels). Chosen with {@code -Dtokenselect.cuda.tensorCopyDecode=} {@code ahead-lean} (the
 * default), {@code pages}, {@code ahead}, {@code producer-warp}, {@code pages-eager}, {@code pages-lean},
 * {@code producer-warp-lean} or {@code off}.
 */
public enum TensorCopyDecode {
    /** No tensor copies: the cp.async or bulk-copy kernels. */
    OFF("off", null, 128),
    /**
     * Each 64-key tile as whole page segments by tensor copies, 128-byte swizzled, issued by warp 0 after
     * each tile's block barrier (the default before AHEAD_LEAN). Measured on an H200 (Qwen2-7B geometry,
     * blocks of 16 tokens): a layer's attention over 128K tokens 1.16x and over 1M 1.21x faster than with
     * cp.async, the 7B's decode at 128K 153.6 tokens/s against 141.9, the same output to the bit where the
     * tiles split alike.
     */
    PAGES("pages", "", 128),
    /**
     * As PAGES with warp 0's block-table entries read a tile ahead, so no warp waits at a tile's barrier
     * for warp 0's table lookup (Nsight on an H200: 30% of the scan's stalls are warps waiting at that
     * barrier). Measured on an H200: a layer 1.03x-1.04x faster than PAGES up to 512K tokens, 0.97x-1.04x
     * at 1M.
     */
    AHEAD("ahead", "ahead_", 128),
    /**
     * As PAGES with a fifth warp that only issues the copies, each stage released to it by the four
     * computing warps on an mbarrier, so they never wait for one another at a block barrier (block of 160
     * threads); it fills the whole ring before the block stages the queries. Measured on an H200: a layer
     * 1.04x-1.09x faster than PAGES from 32K to 1M tokens (1.04x-1.07x with that earlier fill), yet the
     * 7B's decode no faster (152.5 tokens/s at 128K against 154.2), so PAGES stayed the default.
     */
    PRODUCER_WARP("producer-warp", "ws_", 160),
    /**
     * As PAGES with the arithmetic before two instruction savings of the decode kernels (each key rotated
     * by rounded rather than fused products; O rescaled at every new maximum rather than only when a row
     * gains more than 8 in base 2 on it): kept to time what they save side by side, in the attention
     * benchmark.
     */
    PAGES_EAGER("pages-eager", "eager_", 128),
    /**
     * As PAGES with two more instruction savings in the keys' rotation (about two thirds of the scan's
     * instructions on an H200): each angle from the position times the frequency in fixed point, 2^-32
     * turns, whose product wraps modulo a turn by itself (no range reduction; the angle as exact as the
     * frequency's fp32 value allows, where the other schemes round the product to fp32 first, as
     * transformers does), and in the fp16 build the rotation itself on fp16 pairs. Measured on an H200: a
     * layer 1.02x-1.03x faster than PAGES.
     */
    PAGES_LEAN("pages-lean", "lean_", 128),
    /**
     * AHEAD with the rotation of PAGES_LEAN, the default. Measured on an H200 (Qwen2-7B geometry): a layer
     * 1.01x-1.06x faster than AHEAD and 1.03x-1.06x faster than PAGES from 32K to 1M tokens; the 7B made
     * by transformers with the same logits error and greedy tokens as with PAGES, its decode the same
     * (151.5 tokens/s at 128K against 152.5, 213.7 at 4K against 213.4: within the run's spread).
     */
    AHEAD_LEAN("ahead-lean", "ahead_lean_", 128),
    /** PRODUCER_WARP with the rotation of PAGES_LEAN (measured on an H200: a layer as fast as PRODUCER_WARP). */
    PRODUCER_WARP_LEAN("producer-warp-lean", "ws_lean_", 160);

    static final String PROPERTY = "tokenselect.cuda.tensorCopyDecode";
    private static final String WHAT = "tensor-copy decode attention";

    private final String label;
    /** What the kernels' names carry after "tma_"; null for OFF. */
    private final String kernelInfix;
    private final int threads;

    TensorCopyDecode(String label, String kernelInfix, int threads) {
        this.label = label;
        this.kernelInfix = kernelInfix;
        this.threads = threads;
    }

    public String label() {
        return label;
    }

    /** The kernel of this scheme at precision {@code p} (sm_90a module); OFF has none. */
    String kernel(DecodeAttentionPrecision p) {
        if (kernelInfix == null) {
            throw new IllegalStateException("no tensor-copy kernel when tensor copies are off");
        }
        return p.tensorCopyKernel(kernelInfix);
    }

    /** Threads per block of its kernel. */
    int threads() {
        return threads;
    }

    /** The scheme a label names; an unknown label is an error that lists the known ones. */
    public static TensorCopyDecode parse(String label) {
        return PrecisionLabels.parse(values(), TensorCopyDecode::label, label, PROPERTY, WHAT);
    }

    /** From the system property, AHEAD_LEAN where it is not set. */
    static TensorCopyDecode fromSystemProperty() {
        return PrecisionLabels.fromSystemProperty(values(), TensorCopyDecode::label, PROPERTY, WHAT, AHEAD_LEAN);
    }
}
