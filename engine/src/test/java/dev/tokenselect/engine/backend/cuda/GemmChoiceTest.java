package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which prefill GEMMs take the pipelined 128 x 128 kernel, at the Qwen2-7B's shapes in 512-token chunks. */
class GemmChoiceTest {

    private static final int H200_SMS = 132;

    @Test
    void theDefaultTakesThePipelinedKernelWhereKIsAtLeast2048() {
        int auto = CudaKernels.GEMM_AUTO;
        assertTrue(CudaKernels.pipelinedGemm(auto, 512, 4608, 3584, H200_SMS, false));   // q|k|v
        assertTrue(CudaKernels.pipelinedGemm(auto, 512, 3584, 18944, H200_SMS, false));  // down
        assertFalse(CudaKernels.pipelinedGemm(auto, 512, 9728, 896, H200_SMS, false));   // the 0.5B's gate|up
    }

    @Test
    void onWgmmaTheDefaultTakesThePipelinedKernelForChunksOf64RowsOrMore() {
        int auto = CudaKernels.GEMM_AUTO;
        assertTrue(CudaKernels.pipelinedGemm(auto, 512, 9728, 896, H200_SMS, true));   // the 0.5B's gate|up
        assertTrue(CudaKernels.pipelinedGemm(auto, 64, 4608, 3584, H200_SMS, true));
        assertFalse(CudaKernels.pipelinedGemm(auto, 63, 4608, 3584, H200_SMS, true));
        assertFalse(CudaKernels.pipelinedGemm(CudaKernels.GEMM_SMALL_TILES, 512, 4608, 3584, H200_SMS, true));
    }

    @Test
    void wholeKTakesTheSameKernelsAsTheDefault() {
        for (int[] shape : new int[][] {{512, 4608, 3584}, {512, 3584, 18944}, {512, 9728, 896}, {64, 512, 2056}}) {
            assertEquals(CudaKernels.pipelinedGemm(CudaKernels.GEMM_AUTO, shape[0], shape[1], shape[2], H200_SMS, false),
                    CudaKernels.pipelinedGemm(CudaKernels.GEMM_WHOLE_K, shape[0], shape[1], shape[2], H200_SMS, false));
        }
        assertTrue(CudaKernels.pipelinedGemm(CudaKernels.GEMM_PIPELINED, 512, 9728, 896, H200_SMS, false));
        assertFalse(CudaKernels.pipelinedGemm(CudaKernels.GEMM_SMALL_TILES, 512, 4608, 3584, H200_SMS, false));
    }

    @Test
    void splitKFillsOneWaveWhereTheTilesAreFewAndLeavesTheRestWhole() {
        // down 3584 x 18944 in 512-token chunks: 112 tiles, 3 shares fill 264 places; q|k|v 144 tiles: 2
        assertEquals(3, CudaKernels.gemmSplits(512, 3584, 18944, H200_SMS));
        assertEquals(2, CudaKernels.gemmSplits(512, 4608, 3584, H200_SMS));
        // gate|up fills the card already; K below 2048 takes the 64 x 64 kernel whole
        assertEquals(1, CudaKernels.gemmSplits(512, 37888, 3584, H200_SMS));
        assertEquals(1, CudaKernels.gemmSplits(512, 1152, 896, H200_SMS));
        // few tiles: at most 4 shares, each of at least 8 K tiles
        assertEquals(4, CudaKernels.gemmSplits(64, 512, 2056, H200_SMS));
        // K of 2048 is 64 tiles of 32: 8 shares would be allowed, 4 is the most taken
        assertEquals(4, CudaKernels.gemmSplits(16, 128, 2048, H200_SMS));
        // a card of 8 SMs is filled by 16 tiles already
        assertEquals(1, CudaKernels.gemmSplits(512, 512, 4096, 8));
    }

    @Test
    void sharesByWavesFillWholeWavesWithTheFewestShares() {
        // the 7B's down and o (112 tiles): 2 shares, 224 of 264 places, one wave
        assertEquals(2, CudaKernels.gemmSplitsByWaves(512, 3584, 18944, H200_SMS));
        assertEquals(2, CudaKernels.gemmSplitsByWaves(512, 3584, 3584, H200_SMS));
        // its q|k|v (144 tiles): 3 shares, 432 of 528 places
        assertEquals(3, CudaKernels.gemmSplitsByWaves(512, 4608, 3584, H200_SMS));
        // gate|up is 1,184 tiles, 4.5 waves: whole (two shares would fill 9 waves better, at the cost of
        // a partial product of 78 MB to write and read back)
        assertEquals(1, CudaKernels.gemmSplitsByWaves(512, 37888, 3584, H200_SMS));
        // the 0.5B's o, q|k|v and gate|up at K 896 stay whole (a share's partial product outweighs its
        // K range); its down at K 4864 (28 tiles) takes 4 shares, 112 of 264 places
        assertEquals(1, CudaKernels.gemmSplitsByWaves(512, 896, 896, H200_SMS));
        assertEquals(1, CudaKernels.gemmSplitsByWaves(512, 1152, 896, H200_SMS));
        assertEquals(1, CudaKernels.gemmSplitsByWaves(512, 9728, 896, H200_SMS));
        assertEquals(4, CudaKernels.gemmSplitsByWaves(512, 896, 4864, H200_SMS));
        // the 1B's o (64 tiles at K 2048): 4 shares fill 256 of 264 places
        assertEquals(4, CudaKernels.gemmSplitsByWaves(512, 2048, 2048, H200_SMS));
        // odd N: whole
        assertEquals(1, CudaKernels.gemmSplitsByWaves(512, 898, 4096, H200_SMS));
    }

    @Test
    void sharesByWavesTakeThePipelinedKernelAsTheDefaultDoes() {
        for (int[] shape : new int[][] {{512, 4608, 3584}, {512, 9728, 896}, {32, 512, 4096}}) {
            for (boolean wgmma : new boolean[] {false, true}) {
                assertEquals(CudaKernels.pipelinedGemm(CudaKernels.GEMM_AUTO, shape[0], shape[1], shape[2], H200_SMS, wgmma),
                        CudaKernels.pipelinedGemm(CudaKernels.GEMM_TILE_SPLITS, shape[0], shape[1], shape[2], H200_SMS, wgmma));
            }
        }
    }

    @Test
    void theTensorCoreBatchedGemvTakesWholeChunksOf64AndWideBlocksOnlyForTallMatrices() {
        assertTrue(CudaKernels.gemvBatchTcFits(3584, 3584));
        assertTrue(CudaKernels.gemvBatchTcFits(18944, 2 * 18944)); // the down GEMV reads the gate half of each row
        assertFalse(CudaKernels.gemvBatchTcFits(904, 904));
        assertFalse(CudaKernels.gemvBatchTcFits(896, 898));
        assertFalse(CudaKernels.gemvBatchTcFits(896, 640));
        // 32 rows per block where that leaves two blocks per SM (the 7B's gate|up, its vocabulary), else 16
        assertEquals(2, CudaKernels.gemvBatchTcRowGroups(37888, H200_SMS));
        assertEquals(2, CudaKernels.gemvBatchTcRowGroups(152064, H200_SMS));
        assertEquals(1, CudaKernels.gemvBatchTcRowGroups(4608, H200_SMS));
        assertEquals(1, CudaKernels.gemvBatchTcRowGroups(3584, H200_SMS));
    }
}
