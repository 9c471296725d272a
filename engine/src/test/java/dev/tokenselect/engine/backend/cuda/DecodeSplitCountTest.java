package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DecodeSplitCountTest {

    private static final int H200_SMS = 132;

    @Test
    void longContextsFillOneWaveOfTwoBlocksPerSm() {
        int target = CudaKernels.DEFAULT_DECODE_BLOCKS_PER_SM * H200_SMS;
        // Qwen2-7B (4 KV heads) at 128K: 2048 tiles, 264 / 4 = 66 splits -> 64 (256 blocks)
        assertEquals(64, CudaKernels.decodeSplitCount(131_072, 64, 4, target, 1 << 20));
        // Qwen2.5-0.5B (2 KV heads): 132 -> 128 splits
        assertEquals(128, CudaKernels.decodeSplitCount(131_072, 64, 2, target, 1 << 20));
    }

    @Test
    void shortContextsSplitNoFinerThanOneTile() {
        assertEquals(1, CudaKernels.decodeSplitCount(64, 64, 2, 264, 1 << 20));
        assertEquals(1, CudaKernels.decodeSplitCount(10, 64, 2, 264, 1 << 20));
        // 4K over 64-key tiles: 64 shares, below the 132 the target would allow
        assertEquals(64, CudaKernels.decodeSplitCount(4096, 64, 2, 264, 1 << 20));
        assertEquals(2, CudaKernels.decodeSplitCount(65, 64, 2, 264, 1 << 20));
    }

    @Test
    void enoughBlocksOrTooFewPartialsMeanFewerSplits() {
        // a batch of 66 sequences x 4 KV heads already fills the target
        assertEquals(1, CudaKernels.decodeSplitCount(131_072, 64, 264, 264, 1 << 20));
        // partial buffers for 40 splits: the power of two below
        assertEquals(32, CudaKernels.decodeSplitCount(131_072, 64, 4, 264, 40));
        assertEquals(1, CudaKernels.decodeSplitCount(131_072, 64, 4, 264, 0));
    }

    @Test
    void aSelectedListTakesOneTilePerBlockWhileTheCardHasRoom() {
        int target = CudaKernels.DEFAULT_DECODE_BLOCKS_PER_SM * H200_SMS;
        // 2,048 selected + 128 initial + 512 local entries: 42 tiles of 64, 42 splits (168 blocks)
        assertEquals(42, CudaKernels.selectedSplitCount(2048 + 128 + 512, 4, target, 1 << 20));
        // 8,192 entries: 128 tiles, but 264 / 4 = 66 blocks per KV head fill the card
        assertEquals(66, CudaKernels.selectedSplitCount(8192, 4, target, 1 << 20));
        // a short list is one tile; too few partials cap the splits
        assertEquals(1, CudaKernels.selectedSplitCount(40, 4, target, 1 << 20));
        assertEquals(16, CudaKernels.selectedSplitCount(8192, 4, target, 16));
        assertEquals(1, CudaKernels.selectedSplitCount(8192, 4, target, 0));
    }

    @Test
    void theBlocksPerSmSettingTakesPositiveIntegersOnly() {
        String property = CudaKernels.DECODE_BLOCKS_PER_SM_PROPERTY;
        String before = System.clearProperty(property);
        try {
            assertEquals(CudaKernels.DEFAULT_DECODE_BLOCKS_PER_SM, CudaKernels.decodeBlocksPerSmFromProperty());
            System.setProperty(property, " 4 ");
            assertEquals(4, CudaKernels.decodeBlocksPerSmFromProperty());
            for (String bad : new String[] {"0", "-2", "two"}) {
                System.setProperty(property, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        CudaKernels::decodeBlocksPerSmFromProperty);
                assertTrue(e.getMessage().contains(property)
                        && e.getMessage().contains(bad) && e.getMessage().contains("positive integer"), e.getMessage());
            }
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }
}
