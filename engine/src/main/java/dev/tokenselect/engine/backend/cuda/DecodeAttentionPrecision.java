package dev.tokenselect.engine.backend.cuda;

/**
 * Precision of the scores of decode attention on the tensor cores ({@code decode_tc.cu}); P V, the
 * accumulation and the softmax are the same in both. Chosen with
 * {@code -Dtokenselect.cuda.decodeAttention=} {@code f16} (the default) or {@code hi-lo}. fp16 scores
 * kept the Qwen2-7B's logits as close to transformers as hi + lo (1.61e-2) and made its decode 1-6%
 * faster (per-layer attention at 1M tokens 0.74 against 0.85 ms on an H200).
 */
public enum DecodeAttentionPrecision {
    /** Query and rotated key as bf16 hi + lo terms (about 16 mantissa bits): three products per step. */
    HI_LO("hi-lo", ""),
    /** Query and rotated key rounded to fp16 once (11 bits): one product per step. */
    F16("f16", "f16_");

    static final String PROPERTY = "tokenselect.cuda.decodeAttention";
    private static final String WHAT = "decode attention precision";

    private final String label;
    /** What the kernels' names carry for this precision, after "attn_decode_tc_" (and "sel_"). */
    private final String kernelInfix;

    DecodeAttentionPrecision(String label, String kernelInfix) {
        this.label = label;
        this.kernelInfix = kernelInfix;
    }

    public String label() {
        return label;
    }

    /** The kernel for head dim d (64 or 128). */
    String kernel(int d) {
        return kernel(d, false);
    }

    /** The kernel for head dim d, its tiles brought by bulk copies where {@code bulk} (sm_90a module). */
    String kernel(int d, boolean bulk) {
        return "attn_decode_tc_" + kernelInfix + (bulk ? "bulk_" : "") + "d" + d;
    }

    /**
     * The full-attention kernel with page segments by tensor copies (head dim 128, sm_90a module), its
     * scheme's {@code infix} after "tma_" ({@link TensorCopyDecode}).
     */
    String tensorCopyKernel(String infix) {
        return "attn_decode_tc_" + kernelInfix + "tma_" + infix + "d128";
    }

    /** The kernel over a selected entry list (TokenSelect) for head dim d (64 or 128). */
    String selectedKernel(int d) {
        return selectedKernel(d, false);
    }

    /** The list kernel for head dim d, with bulk copies where {@code bulk} (sm_90a module). */
    String selectedKernel(int d, boolean bulk) {
        return "attn_decode_tc_sel_" + kernelInfix + (bulk ? "bulk_" : "") + "d" + d;
    }

    /** The precision a label names; an unknown label is an error that lists the known ones. */
    public static DecodeAttentionPrecision parse(String label) {
        return PrecisionLabels.parse(values(), DecodeAttentionPrecision::label, label, PROPERTY, WHAT);
    }

    /** From the system property, F16 where it is not set. */
    static DecodeAttentionPrecision fromSystemProperty() {
        return PrecisionLabels.fromSystemProperty(values(), DecodeAttentionPrecision::label, PROPERTY, WHAT, F16);
    }
}
