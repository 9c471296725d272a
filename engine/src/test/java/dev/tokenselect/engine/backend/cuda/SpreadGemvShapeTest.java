package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which one-vector GEMVs the spread kernel takes, and that they fit its shared memory on an H200 grid. */
class SpreadGemvShapeTest {

    private static final int H200_GRID = CudaKernels.SPREAD_BLOCKS_PER_SM * 132;

    @Test
    void theSevenBillionGeometrysLayerProjectionsAreSpread() {
        // Qwen2-7B: q|k|v 4608 x 3584, o 3584 x 3584, gate|up 2 x 18944 x 3584, down 3584 x 18944
        assertTrue(CudaKernels.spreadShape(4608, 3584, false));
        assertTrue(CudaKernels.spreadShape(3584, 3584, false));
        assertTrue(CudaKernels.spreadShape(18944, 3584, true));
        assertTrue(CudaKernels.spreadShape(3584, 18944, false));
        for (int[] s : new int[][] {{4608, 3584, 0}, {3584, 3584, 0}, {18944, 3584, 1}, {3584, 18944, 0}}) {
            int bytes = CudaKernels.spreadSharedBytes(s[0], s[1], s[2] == 1, Math.min(s[0], H200_GRID));
            assertTrue(bytes <= CudaKernels.SPREAD_SHARED_MAX, s[0] + "x" + s[1] + " needs " + bytes + " bytes");
        }
    }

    @Test
    void smallProjectionsAndTheVocabularyProjectionKeepOneRowPerWarp() {
        // Qwen2.5-0.5B: q|k|v 1152 x 896, gate|up 2 x 4864 x 896, down 896 x 4864
        assertFalse(CudaKernels.spreadShape(1152, 896, false));
        assertFalse(CudaKernels.spreadShape(4864, 896, true));
        assertFalse(CudaKernels.spreadShape(896, 4864, false));
        // lm_head of either
        assertFalse(CudaKernels.spreadShape(151_936, 3584, false));
        assertFalse(CudaKernels.spreadShape(151_936, 896, false));
    }

    @Test
    void sharedMemoryCoversTheStagedInputAndEveryUnitOfTheLargestBlock() {
        // 1000 rows over 264 blocks: at most 4 rows a block; 904 columns = 113 chunks = 4 units a row
        assertTrue(CudaKernels.spreadSharedBytes(1000, 904, false, 264) == 4 * (904 + 4 * 4));
        assertTrue(CudaKernels.spreadSharedBytes(1000, 904, true, 264) == 4 * (904 + 2 * 4 * 4));
    }
}
