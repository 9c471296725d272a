package dev.tokenselect.engine.backend.cuda;

/**
 * How TokenSelect's scoring pass on the device reads the candidates' keys (or their int8 sketches):
 * straight into registers, a tile at a time per warp, or streamed through a ring of shared-memory
 * stages by cp.async with several tiles in flight per warp ({@code ts_scores_pipe.cu}). Both give the
 * same selection; on bf16 keys the same scores bit for bit. Chosen with
 * {@code -Dtokenselect.cuda.scoringPass=} {@code auto} (the default), {@code register-fed} or
 * {@code pipelined}.
 */
public enum ScoringPass {
    /**
     * On sketches the pipelined pass at every count; on bf16 keys the pipelined pass from
     * {@link #PIPELINED_MIN_CANDIDATES} candidates, the register-fed one below. Measured on an H200
     * (Qwen2-7B geometry, a layer's selection): on keys the pipelined pass 1.06x-1.10x faster at 524K
     * and 1.09x-1.10x at 1M candidates, 0.92x-0.94x at 32K and 131K, where a warp has too few tiles to
     * fill its ring; on sketches, whose rows are half as wide, 1.06x-1.09x at every count from 32K, and
     * faster than the int8-product form (0.3167 against 0.3231 ms at 1M).
     */
    AUTO("auto"),
    /** Each warp loads the rows of the tile it multiplies into registers (ts_device_select.cu, ts_sketch.cu). */
    REGISTER_FED("register-fed"),
    /** Every candidate count, keys and sketches alike, through shared-memory stages. */
    PIPELINED("pipelined"),
    /**
     * As PIPELINED, with sketch rows multiplied as they are on the integer tensor cores (the query as
     * three int8 terms, each a scale below the last, exact int32 sums, about 21 bits of the query
     * kept): no widening of the rows to fp16 and 12 products per 16 candidates instead of 16, where
     * Nsight found the sketch pass bound by its instructions. Keys as PIPELINED. Checked on an H200
     * (same selections as the CPU reference; scores within 3e-7 of the register-fed pass's) but no
     * faster than PIPELINED there (0.79x at 32K to 0.98x at 1M candidates, the speed of PIPELINED taken as 1), so AUTO does not take it.
     */
    PIPELINED_INT8("pipelined-int8");

    /**
     * Candidates from which AUTO streams bf16 keys through shared memory (between the 131K and 524K
     * measured). A captured decode step sizes its pass for the next power of two above the candidates,
     * so there the pipelined pass starts above 262,144 candidates.
     */
    static final int PIPELINED_MIN_CANDIDATES = 3 << 17;

    static final String PROPERTY = "tokenselect.cuda.scoringPass";
    private static final String WHAT = "TokenSelect scoring pass";

    private final String label;

    ScoringPass(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Whether a pass over {@code candidates} keys (their sketches where {@code sketched}) is the pipelined one. */
    boolean pipelined(int candidates, boolean sketched) {
        return switch (this) {
            case AUTO -> sketched || candidates >= PIPELINED_MIN_CANDIDATES;
            case REGISTER_FED -> false;
            case PIPELINED, PIPELINED_INT8 -> true;
        };
    }

    /** The kernel this pass launches for {@code candidates} keys (sketches where {@code sketched}), head dim 64 or 128. */
    String kernel(int headDim, int candidates, boolean sketched) {
        if (!pipelined(candidates, sketched)) {
            return (sketched ? "ts_scores_sketch_d" : "ts_scores_tc_d") + headDim;
        }
        if (sketched) {
            return (this == PIPELINED_INT8 ? "ts_scores_sketch_i8_d" : "ts_scores_sketch_pipe_d") + headDim;
        }
        return "ts_scores_pipe_d" + headDim;
    }

    /**
     * Shared memory of a block of the pipelined pass (ts_scores_pipe.cu TspShape): 8 warps, each a ring
     * of 3 stages of 16 bf16 key rows, or of 4 stages of 16 sketch rows and their 16 fp32 scales.
     */
    static int pipelinedSharedBytes(int headDim, boolean sketched) {
        int stage = sketched ? 16 * headDim + 64 : 16 * 2 * headDim;
        int stages = sketched ? 4 : 3;
        return 8 * stages * stage;
    }

    /** The pass a label names; an unknown label is an error that lists the known ones. */
    public static ScoringPass parse(String label) {
        return PrecisionLabels.parse(values(), ScoringPass::label, label, PROPERTY, WHAT);
    }

    /** From the system property, AUTO where it is not set. */
    static ScoringPass fromSystemProperty() {
        return PrecisionLabels.fromSystemProperty(values(), ScoringPass::label, PROPERTY, WHAT, AUTO);
    }
}
