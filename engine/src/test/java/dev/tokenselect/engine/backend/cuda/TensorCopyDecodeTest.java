package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The geometry rules of decode attention by tensor copies of page segments (no GPU needed). */
class TensorCopyDecodeTest {

    @Test
    void pageSegmentsFitWhereTheSwizzlePeriodAndTheTileAgree() {
        for (int bs : new int[] {8, 16, 32, 64, 128, 256}) {
            assertTrue(CudaKernels.tensorCopyDecodeFits(128, bs), "block size " + bs);
        }
        // not a multiple of the 8-row swizzle period, or neither dividing nor a multiple of the 64-key tile
        for (int bs : new int[] {1, 4, 12, 24, 48, 96}) {
            assertFalse(CudaKernels.tensorCopyDecodeFits(128, bs), "block size " + bs);
        }
        // two 128-byte half rows: head dim 128 only
        assertFalse(CudaKernels.tensorCopyDecodeFits(64, 16));
        assertFalse(CudaKernels.tensorCopyDecodeFits(256, 16));
    }

    @Test
    void aCopyIsOnePageSegmentOfAtMostATile() {
        assertEquals(16, CudaKernels.tensorCopyBoxRows(16));
        assertEquals(64, CudaKernels.tensorCopyBoxRows(64));
        assertEquals(64, CudaKernels.tensorCopyBoxRows(256));
    }

    @Test
    void thePoolIsRowsOfOneHeadsKeyOrValue() {
        // Qwen2-7B: 28 layers x K|V x 4 KV heads x 16 slots x 128 dims per block
        long blockElems = 28L * 2 * 4 * 16 * 128;
        CudaKernels.Kv kv = new CudaKernels.Kv(null, blockElems, 16, 4, 128, 1000);
        assertEquals(1000L * 28 * 2 * 4 * 16, kv.rows());
    }

    @Test
    void theDriversLimitsOnATensorMapAreCheckedBeforeTheCall() {
        long aligned = 0x7f0000000000L;
        assertNull(TensorMapCalls.invalidReason(aligned, 1L << 30, 128, 64, 16));
        assertNull(TensorMapCalls.invalidReason(aligned, (1L << 31) - 1, 128, 64, 64));
        assertTrue(TensorMapCalls.invalidReason(aligned + 8, 100, 128, 64, 16).contains("16-byte aligned"));
        assertTrue(TensorMapCalls.invalidReason(0, 100, 128, 64, 16).contains("aligned"));
        // rows are addressed by signed 32-bit coordinates
        assertTrue(TensorMapCalls.invalidReason(aligned, 1L << 31, 128, 64, 16).contains("rows"));
        // the 128-byte swizzle takes boxes of at most 64 bf16 columns
        assertTrue(TensorMapCalls.invalidReason(aligned, 100, 128, 128, 16).contains("columns"));
        assertTrue(TensorMapCalls.invalidReason(aligned, 100, 128, 60, 16).contains("columns"));
        assertTrue(TensorMapCalls.invalidReason(aligned, 100, 128, 64, 257).contains("rows"));
        assertTrue(TensorMapCalls.invalidReason(aligned, 100, 12, 8, 16).contains("16 bytes"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorMapCalls.bf16Rows(aligned + 2, 100, 128, 64, 16));
        assertTrue(e.getMessage().contains("tensor map"));
    }

    @Test
    void eachSchemeAndPrecisionNamesItsTensorCopyKernel() {
        assertEquals("attn_decode_tc_tma_d128", TensorCopyDecode.PAGES.kernel(DecodeAttentionPrecision.HI_LO));
        assertEquals("attn_decode_tc_f16_tma_d128", TensorCopyDecode.PAGES.kernel(DecodeAttentionPrecision.F16));
        assertEquals("attn_decode_tc_f16_tma_ahead_d128", TensorCopyDecode.AHEAD.kernel(DecodeAttentionPrecision.F16));
        assertEquals("attn_decode_tc_f16_tma_ws_d128", TensorCopyDecode.PRODUCER_WARP.kernel(DecodeAttentionPrecision.F16));
        assertEquals("attn_decode_tc_f16_tma_eager_d128", TensorCopyDecode.PAGES_EAGER.kernel(DecodeAttentionPrecision.F16));
        assertEquals(TensorCopyDecode.PAGES_EAGER, TensorCopyDecode.parse("pages-eager"));
        assertEquals("attn_decode_tc_f16_tma_lean_d128", TensorCopyDecode.PAGES_LEAN.kernel(DecodeAttentionPrecision.F16));
        assertEquals("attn_decode_tc_f16_tma_ahead_lean_d128", TensorCopyDecode.AHEAD_LEAN.kernel(DecodeAttentionPrecision.F16));
        assertEquals("attn_decode_tc_tma_ahead_lean_d128", TensorCopyDecode.AHEAD_LEAN.kernel(DecodeAttentionPrecision.HI_LO));
        assertEquals("attn_decode_tc_f16_tma_ws_lean_d128",
                TensorCopyDecode.PRODUCER_WARP_LEAN.kernel(DecodeAttentionPrecision.F16));
        assertEquals(TensorCopyDecode.AHEAD_LEAN, TensorCopyDecode.parse("ahead-lean"));
        assertEquals(TensorCopyDecode.PRODUCER_WARP_LEAN, TensorCopyDecode.parse("producer-warp-lean"));
        assertEquals(160, TensorCopyDecode.PRODUCER_WARP_LEAN.threads());
        assertEquals(160, TensorCopyDecode.PRODUCER_WARP.threads());
        assertEquals(128, TensorCopyDecode.PAGES.threads());
        assertThrows(IllegalStateException.class, () -> TensorCopyDecode.OFF.kernel(DecodeAttentionPrecision.F16));
    }

    @Test
    void theLeanRotationWithTheTableReadAheadIsTheDefault() {
        String before = System.getProperty(TensorCopyDecode.PROPERTY);
        try {
            System.clearProperty(TensorCopyDecode.PROPERTY);
            assertEquals(TensorCopyDecode.AHEAD_LEAN, TensorCopyDecode.fromSystemProperty());
            System.setProperty(TensorCopyDecode.PROPERTY, "pages");
            assertEquals(TensorCopyDecode.PAGES, TensorCopyDecode.fromSystemProperty());
        } finally {
            if (before == null) {
                System.clearProperty(TensorCopyDecode.PROPERTY);
            } else {
                System.setProperty(TensorCopyDecode.PROPERTY, before);
            }
        }
    }

    @Test
    void theSwitchTakesItsLabelsAndNamesTheChoicesOtherwise() {
        assertEquals(TensorCopyDecode.PRODUCER_WARP, TensorCopyDecode.parse(" Producer-Warp "));
        assertEquals(TensorCopyDecode.OFF, TensorCopyDecode.parse("off"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorCopyDecode.parse("true"));
        assertTrue(e.getMessage().contains("tokenselect.cuda.tensorCopyDecode"), e.getMessage());
        assertTrue(e.getMessage().contains("producer-warp"), e.getMessage());
    }
}
