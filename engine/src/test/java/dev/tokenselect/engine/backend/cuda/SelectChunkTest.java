package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The radix top-k's chunk of candidates per block: what the setting takes, and the kernels taking it. */
class SelectChunkTest {

    @Test
    void autoGrowsTheChunkWithTheCountAsMeasured() {
        // fastest measured: 1,024 per block up to 131K candidates, 2,048-4,096 at 524K, 4,096 at 1M
        assertEquals(1024, SelectChunk.auto(32_768 - 640));
        assertEquals(1024, SelectChunk.auto(131_072 - 640));
        assertEquals(2048, SelectChunk.auto(524_288 - 640));
        assertEquals(4096, SelectChunk.auto(1_048_576 - 640));
        assertEquals(8192, SelectChunk.auto(2_097_152));
        assertEquals(8192, SelectChunk.auto(Integer.MAX_VALUE));
        assertEquals(1024, SelectChunk.auto(1));
        assertEquals(4096, SelectChunk.resolve(SelectChunk.AUTO, 1_048_576));
        assertEquals(2048, SelectChunk.resolve(2048, 1_048_576));
    }

    @Test
    void aLaunchForAPowerOfTwoCapacityCoversEveryCountUpToIt() {
        // a captured step launches blocks(capacity, auto(capacity)) blocks; the kernels take auto(count)
        for (int shift = 12; shift <= 24; shift++) {
            int capacity = 1 << shift;
            long launched = blocks(capacity, SelectChunk.auto(capacity));
            for (int count = 1; count <= capacity; count += 1 + count / 97) {
                assertTrue(blocks(count, SelectChunk.auto(count)) <= launched, capacity + " / " + count);
            }
            assertTrue(blocks(capacity, SelectChunk.auto(capacity)) <= launched);
            // and the scratch (sized for the smallest chunk) holds the counts of every block launched
            assertTrue(launched <= blocks(capacity, CudaKernels.MIN_SELECT_CHUNK));
        }
    }

    @Test
    void theDeviceRuleIsTheHostRule() throws IOException {
        String src = Files.readString(Path.of("src/main/cuda/ts_device_select.cu"));
        assertTrue(src.contains("int per = (count + " + (SelectChunk.AUTO_BLOCKS - 1) + ") / " + SelectChunk.AUTO_BLOCKS
                + ";"), "ts_auto_chunk aims at the host's block count");
        assertTrue(src.contains("int chunk = " + CudaKernels.MIN_SELECT_CHUNK + ";"), "ts_auto_chunk starts at one block");
        assertTrue(src.contains("while (chunk < per && chunk < " + SelectChunk.AUTO_MAX + ") chunk <<= 1;"),
                "ts_auto_chunk stops at the host's largest chunk");
        assertTrue(src.contains("if (chunk == 0) chunk = ts_auto_chunk(count);"), "0 stands for the automatic chunk");
        assertEquals(3, src.split("ts_chunk_range\\(chunk, count, c0, c1\\);", -1).length - 1,
                "each radix kernel derives the chunk from the count it runs on");
    }

    private static long blocks(long n, long per) {
        return (n + per - 1) / per;
    }

    @Test
    void takesAutoOrMultiplesOfTheBlockFromOneBlockTo65536() {
        assertEquals(SelectChunk.AUTO, SelectChunk.parse("auto"));
        assertEquals(SelectChunk.AUTO, SelectChunk.parse(" Auto "));
        assertEquals(1024, SelectChunk.parse("1024"));
        assertEquals(8192, SelectChunk.parse(" 8192 "));
        assertEquals(65_536, SelectChunk.parse("65536"));
        for (String bad : new String[] {"0", "512", "1000", "3000", "131072", "-1024", "big"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SelectChunk.parse(bad), bad);
            assertTrue(e.getMessage().contains("multiple of 1024"), e.getMessage());
            assertTrue(e.getMessage().contains(SelectChunk.PROPERTY), e.getMessage());
        }
    }

    @Test
    void scratchHoldsTheCountsOfTheSmallestChunk() {
        // two ints per chunk after the histograms: sized for the smallest chunk, so any setting fits
        int count = 1_048_576 - 640;
        long chunks = (count + CudaKernels.MIN_SELECT_CHUNK - 1) / CudaKernels.MIN_SELECT_CHUNK;
        assertEquals(4L * (3L * 2048 + 2L * chunks), CudaKernels.topKRowScratchBytes(count));
    }

    @Test
    void everyRadixKernelTakesTheChunkAndNoneFixesIt() throws IOException {
        String src = Files.readString(Path.of("src/main/cuda/ts_device_select.cu"));
        for (String kernel : new String[] {"ts_radix_hist", "ts_radix_count", "ts_radix_write"}) {
            assertTrue(src.contains(kernel + "(const float *__restrict__ vote, int count, int chunk, int k,"), kernel);
        }
        assertTrue(!src.contains("TS_CHUNK"), "no fixed chunk left in the radix kernels");
    }
}
