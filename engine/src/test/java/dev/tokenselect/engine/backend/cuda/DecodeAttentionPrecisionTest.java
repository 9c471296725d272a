package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DecodeAttentionPrecisionTest {

    @Test
    void labelsParseToTheirPrecision() {
        for (DecodeAttentionPrecision p : DecodeAttentionPrecision.values()) {
            assertEquals(p, DecodeAttentionPrecision.parse(p.label()));
        }
        assertEquals(DecodeAttentionPrecision.F16, DecodeAttentionPrecision.parse(" F16"));
    }

    @Test
    void fp16ScoresAreTheDefault() {
        String before = System.clearProperty(DecodeAttentionPrecision.PROPERTY);
        try {
            assertEquals(DecodeAttentionPrecision.F16, DecodeAttentionPrecision.fromSystemProperty());
            System.setProperty(DecodeAttentionPrecision.PROPERTY, "hi-lo");
            assertEquals(DecodeAttentionPrecision.HI_LO, DecodeAttentionPrecision.fromSystemProperty());
        } finally {
            if (before == null) {
                System.clearProperty(DecodeAttentionPrecision.PROPERTY);
            } else {
                System.setProperty(DecodeAttentionPrecision.PROPERTY, before);
            }
        }
    }

    @Test
    void bf16IsNotADecodePrecisionAndTheErrorSaysWhatIs() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DecodeAttentionPrecision.parse("bf16"));
        assertTrue(e.getMessage().contains("tokenselect.cuda.decodeAttention") && e.getMessage().contains("hi-lo")
                && e.getMessage().contains("f16") && e.getMessage().contains("decode"), e.getMessage());
    }

    @Test
    void eachPrecisionHasItsOwnKernel() {
        assertEquals("attn_decode_tc_d128", DecodeAttentionPrecision.HI_LO.kernel(128));
        assertNotEquals(DecodeAttentionPrecision.HI_LO.kernel(64), DecodeAttentionPrecision.F16.kernel(64));
        assertEquals("attn_decode_tc_sel_f16_d64", DecodeAttentionPrecision.F16.selectedKernel(64));
        assertEquals("attn_decode_tc_sel_d128", DecodeAttentionPrecision.HI_LO.selectedKernel(128));
    }
}
