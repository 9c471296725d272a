package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrefillAttentionPrecisionTest {

    @Test
    void labelsParseToTheirPrecision() {
        for (PrefillAttentionPrecision p : PrefillAttentionPrecision.values()) {
            assertEquals(p, PrefillAttentionPrecision.parse(p.label()));
        }
        assertEquals(PrefillAttentionPrecision.F16, PrefillAttentionPrecision.parse(" F16 "));
    }

    @Test
    void fp16ScoresAreTheDefault() {
        String before = System.clearProperty(PrefillAttentionPrecision.PROPERTY);
        try {
            assertEquals(PrefillAttentionPrecision.F16, PrefillAttentionPrecision.fromSystemProperty());
            System.setProperty(PrefillAttentionPrecision.PROPERTY, "hi-lo");
            assertEquals(PrefillAttentionPrecision.HI_LO, PrefillAttentionPrecision.fromSystemProperty());
        } finally {
            if (before == null) {
                System.clearProperty(PrefillAttentionPrecision.PROPERTY);
            } else {
                System.setProperty(PrefillAttentionPrecision.PROPERTY, before);
            }
        }
    }

    @Test
    void anUnknownLabelNamesThePropertyAndTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PrefillAttentionPrecision.parse("fp8"));
        assertTrue(e.getMessage().contains("fp8") && e.getMessage().contains("tokenselect.cuda.prefillAttention")
                && e.getMessage().contains("hi-lo") && e.getMessage().contains("bf16"), e.getMessage());
    }

    @Test
    void onlyTheSplitPrecisionKeepsLoTilesInSharedMemory() {
        // flash_gqa.cu: Q hi + lo, K hi + lo and two V stages, or Q, K and two V stages
        assertEquals(6 * 64 * 136 * 2, PrefillAttentionPrecision.HI_LO.sharedBytes(128));
        assertEquals(4 * 64 * 72 * 2, PrefillAttentionPrecision.F16.sharedBytes(64));
        assertEquals("flash_gqa_bf16_d128", PrefillAttentionPrecision.BF16.kernel(128));
    }

    @Test
    void theWgmmaKernelsStagedTilesAreWholeSwizzleAtomsAndTwoBlocksFitAnSm() {
        // flash_wgmma.cu: per 64-key tile the rotated keys and V^T, [64][d] fp16 each, copied as is into
        // 1,024-byte-aligned stages (the 128-byte swizzle repeats every 8 rows of 128 bytes)
        assertEquals(32 * 1024, CudaKernels.wgmmaAttentionTileBytes(128));
        assertEquals(0, CudaKernels.wgmmaAttentionTileBytes(64) % 1024);
        // two stages (the second holds the [64][d + 8] Q tile first) and the alignment slack: three
        // blocks per SM of an H100 or H200 (228 KiB, 1 KiB of it reserved per block)
        assertEquals(2 * 32768 + 1024, CudaKernels.wgmmaAttentionSharedBytes(128));
        assertTrue(64 * (128 + 8) * 2 <= CudaKernels.wgmmaAttentionTileBytes(128));
        assertTrue(3 * (CudaKernels.wgmmaAttentionSharedBytes(128) + 1024) <= 228 * 1024);
    }
}
