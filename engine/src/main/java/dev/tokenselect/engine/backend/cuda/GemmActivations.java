package dev.tokenselect.engine.backend.cuda;

/**
 * How the pipelined prefill GEMMs ({@code gemm.cu}, {@code wgmma.cu}) feed the fp32 activations to the
 * tensor cores against the bf16 weights; accumulation stays fp32 in all three. Chosen with
 * {@code -Dtokenselect.cuda.gemmActivations=} {@code hi-lo}, {@code f16} or {@code bf16}; unset, the
 * GEMM kernels in use choose ({@link CudaKernels#activationsInUse}: fp16 on wgmma, hi + lo on
 * mma.sync). Measured against transformers, Qwen2-7B's logits: hi + lo 1.7e-2, fp16 1.8e-2 to 1.9e-2,
 * bf16 3.3e-2 (past the 2e-2 the engine holds itself to).
 */
public enum GemmActivations {
    /** bf16 hi + lo terms (about 16 mantissa bits): two products per step. */
    HI_LO("hi-lo", "gemm_bf16_tc2", null),
    /**
     * fp16 once (11 bits), scaled by the power of two that brings the GEMM's largest |x| into
     * [2^14, 2^15) so nothing overflows, the weights widened from bf16 to fp16 in registers: one
     * product per step. Falls back to hi + lo for a model with a weight fp16 cannot hold.
     */
    F16("f16", "gemm_bf16_tc2_f16", "gemm_wgmma_f16"),
    /** bf16 once (8 bits), as bf16 inference elsewhere: one product per step. */
    BF16("bf16", "gemm_bf16_tc2_bf16", "gemm_wgmma_bf16");

    static final String PROPERTY = "tokenselect.cuda.gemmActivations";

    private final String label;
    private final String kernel;
    private final String wgmmaKernel;

    GemmActivations(String label, String kernel, String wgmmaKernel) {
        this.label = label;
        this.kernel = kernel;
        this.wgmmaKernel = wgmmaKernel;
    }

    public String label() {
        return label;
    }

    /** The pipelined 128 x 128 kernel on mma.sync that takes the activations this way. */
    String kernel() {
        return kernel;
    }

    /**
     * The same GEMM on Hopper's warpgroup MMA (wgmma.cu, sm_90a), reading X rounded to 16 bits
     * beforehand ({@link #x16Kernel}); the fp16 and bf16 settings only ({@link #hasWgmmaKernel}).
     */
    String wgmmaKernel() {
        if (!hasWgmmaKernel()) {
            throw new IllegalStateException(label + " activations have no wgmma kernel");
        }
        return wgmmaKernel;
    }

    /** Whether the setting has wgmma kernels (hi + lo runs on mma.sync everywhere). */
    boolean hasWgmmaKernel() {
        return wgmmaKernel != null;
    }

    /** The kernel that rounds X to 16 bits for the wgmma kernels ({@link #hasWgmmaKernel} only). */
    String x16Kernel() {
        return this == F16 ? "x16_f16" : "x16_bf16";
    }

    /** The setting a label names; an unknown label is an error that lists the known ones. */
    public static GemmActivations parse(String label) {
        return PrecisionLabels.parse(values(), GemmActivations::label, label, PROPERTY, "GEMM activation precision");
    }

    /** From the system property; null where it is not set (the kernels in use choose). */
    static GemmActivations fromSystemProperty() {
        return PrecisionLabels.fromSystemProperty(values(), GemmActivations::label, PROPERTY,
                "GEMM activation precision", null);
    }
}
