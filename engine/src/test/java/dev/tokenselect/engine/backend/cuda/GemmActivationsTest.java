package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GemmActivationsTest {

    @Test
    void labelsParseToTheirSetting() {
        for (GemmActivations a : GemmActivations.values()) {
            assertEquals(a, GemmActivations.parse(a.label()));
        }
        assertEquals(GemmActivations.F16, GemmActivations.parse(" F16 "));
    }

    @Test
    void anUnsetPropertyLeavesTheChoiceToTheKernelsInUse() {
        String before = System.clearProperty(GemmActivations.PROPERTY);
        try {
            assertNull(GemmActivations.fromSystemProperty());
            System.setProperty(GemmActivations.PROPERTY, "f16");
            assertEquals(GemmActivations.F16, GemmActivations.fromSystemProperty());
        } finally {
            if (before == null) {
                System.clearProperty(GemmActivations.PROPERTY);
            } else {
                System.setProperty(GemmActivations.PROPERTY, before);
            }
        }
    }

    @Test
    void anUnknownLabelNamesThePropertyAndTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmActivations.parse("fp8"));
        assertTrue(e.getMessage().contains("fp8") && e.getMessage().contains("tokenselect.cuda.gemmActivations")
                && e.getMessage().contains("hi-lo") && e.getMessage().contains("f16"), e.getMessage());
    }

    @Test
    void theReferenceOfTheFp16KernelScalesTheLargestActivationBelowFp16sLimit() {
        // one row, one column: x = 3e6 (past fp16's 65504) times a weight of 0.5, exactly representable
        short[] w = {Bf16.fromFloat(0.5f)};
        double[] y = CudaSelfTest.gemmReferenceF16(new float[] {3e6f}, w, new float[] {1f}, 1, 1, 1);
        assertEquals(1.5e6 + 1, y[0], 1.5e6 * 1e-3);
        // a tiny activation keeps fp16's precision instead of flushing to zero
        double[] tiny = CudaSelfTest.gemmReferenceF16(new float[] {3e-30f}, w, new float[] {0f}, 1, 1, 1);
        assertEquals(1.5e-30, tiny[0], 1.5e-30 * 1e-3);
    }

    @Test
    void onlyTheSixteenBitSettingsHaveWgmmaKernels() {
        assertTrue(!GemmActivations.HI_LO.hasWgmmaKernel());
        IllegalStateException e = assertThrows(IllegalStateException.class, GemmActivations.HI_LO::wgmmaKernel);
        assertTrue(e.getMessage().contains("hi-lo"), e.getMessage());
        assertEquals("gemm_wgmma_f16", GemmActivations.F16.wgmmaKernel());
        assertEquals("gemm_wgmma_bf16", GemmActivations.BF16.wgmmaKernel());
        assertEquals("x16_f16", GemmActivations.F16.x16Kernel());
        assertEquals("x16_bf16", GemmActivations.BF16.x16Kernel());
    }

    @Test
    void twoBlocksOfTheWgmmaKernelShareAnSm() {
        // 228 KiB per SM on Hopper, 1 KiB of it reserved per block; the 1 KiB on top aligns the swizzled tiles
        assertTrue(2 * (CudaKernels.WGMMA_SHARED_BYTES + 1024) <= 228 * 1024);
        assertEquals(0, (CudaKernels.WGMMA_SHARED_BYTES - 1024) % (128 * 64 * 2));
    }
}
