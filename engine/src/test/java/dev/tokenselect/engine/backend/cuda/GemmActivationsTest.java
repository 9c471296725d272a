package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void hiPlusLoIsTheDefault() {
        String before = System.clearProperty(GemmActivations.PROPERTY);
        try {
            assertEquals(GemmActivations.HI_LO, GemmActivations.fromSystemProperty());
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
}
