package dev.tokenselect.engine.backend.cuda;

/**
 * Precision of the tensor-core products of prefill attention ({@code flash_gqa.cu}); accumulation
 * and the softmax stay fp32 in all three. Chosen with {@code -Dtokenselect.cuda.prefillAttention=}
 * {@code f16} (the default), {@code hi-lo} or {@code bf16}. fp16 scores moved the Qwen2-7B's logits
 * no further from transformers than hi + lo (1.61e-2 against 1.63e-2) and prefill a 128K prompt 13% faster.
 */
public enum PrefillAttentionPrecision {
    /** Q, rotated K and P as bf16 hi + lo terms (about 16 mantissa bits): five products per step. */
    HI_LO("hi-lo", "flash_gqa_d", 2),
    /** Q and rotated K rounded to fp16 once (11 bits), P as bf16 hi + lo: three products. */
    F16("f16", "flash_gqa_f16_d", 1),
    /** Q, rotated K and P rounded to bf16 once (8 bits), as FlashAttention does: two products. */
    BF16("bf16", "flash_gqa_bf16_d", 1);

    static final String PROPERTY = "tokenselect.cuda.prefillAttention";

    private final String label;
    private final String kernelPrefix;
    /** 16-bit terms Q and K are kept in: hi + lo, or one. */
    private final int terms;

    PrefillAttentionPrecision(String label, String kernelPrefix, int terms) {
        this.label = label;
        this.kernelPrefix = kernelPrefix;
        this.terms = terms;
    }

    public String label() {
        return label;
    }

    /** The kernel for head dim d (64 or 128). */
    String kernel(int d) {
        return kernelPrefix + d;
    }

    /** The kernel that rotates a chunk's keys once for all blocks, in this precision. */
    String stageKernel(int d) {
        return kernelPrefix.replace("flash_gqa_", "flash_gqa_stage_") + d;
    }

    /** Bytes of one staged 64-key tile of one KV head: hi (+ lo for HI_LO) [64][d] 16-bit words. */
    long stagedTileBytes(int d) {
        return (long) terms * 64 * d * 2;
    }

    /** Q, K (hi + lo for HI_LO) and two stages of V: [64][d + 8] 16-bit tiles. */
    int sharedBytes(int d) {
        return (2 * terms + 2) * 64 * (d + 8) * 2;
    }

    /** The precision a label names; an unknown label is an error that lists the known ones. */
    public static PrefillAttentionPrecision parse(String label) {
        return PrecisionLabels.parse(values(), PrefillAttentionPrecision::label, label, PROPERTY,
                "prefill attention precision");
    }

    /** From the system property, F16 where it is not set. */
    static PrefillAttentionPrecision fromSystemProperty() {
        return PrecisionLabels.fromSystemProperty(values(), PrefillAttentionPrecision::label, PROPERTY,
                "prefill attention precision", F16);
    }
}
