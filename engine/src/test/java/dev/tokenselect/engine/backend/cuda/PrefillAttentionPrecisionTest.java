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
}
