package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The fused vote and top-k (ts_vote_topk.cu) against the host code that launches it, on a machine
 * without a GPU: its block size, the scratch it finds zeroed, and the grid barriers between its phases.
 */
class FusedVoteTopKTest {

    private static String source() throws IOException {
        return Files.readString(Path.of("src/main/cuda/ts_vote_topk.cu"));
    }

    @Test
    void theHostLaunchesTheBlockSizeTheKernelIsBuiltFor() throws IOException {
        Matcher m = Pattern.compile("#define TS_FUSED_THREADS (\\d+)").matcher(source());
        assertTrue(m.find());
        assertEquals(CudaKernels.FUSED_THREADS, Integer.parseInt(m.group(1)));
    }

    @Test
    void theBarriersExpectOneArrivalPerBlockEachAndTheirOrdinalsRiseByOne() throws IOException {
        // phase 0, passes 1 and 2, the counts: four barriers, each waiting for gridDim.x more arrivals
        Matcher m = Pattern.compile("ts_grid_barrier\\(barrier, ([^;]+)\\);").matcher(source());
        StringBuilder targets = new StringBuilder();
        while (m.find()) {
            targets.append(m.group(1)).append(';');
        }
        assertEquals("nb;nb * (pass + 1);nb * 4;", targets.toString());
        assertTrue(source().contains("const unsigned nb = gridDim.x;"));
    }

    @Test
    void theStatsLaunchZeroesTheHistogramsAndTheBarrierCounterThatFollows() throws IOException {
        String host = Files.readString(Path.of("src/main/java/dev/tokenselect/engine/backend/cuda/CudaKernels.java"));
        assertTrue(host.contains("sc.vote().hist(), 3 * SELECT_BINS + BARRIER_INTS);"),
                "ts_stats_combine clears the histograms and the barrier counter in one range");
        assertTrue(host.contains("CUdeviceptr barrier = hist.withByteOffset(4L * 3 * SELECT_BINS);"),
                "the counter sits right behind the three histograms");
    }

    @Test
    void theScratchHoldsTheCountsOfEveryBlockTheLaunchMayHave() {
        // the grid is at most blocks(count, 1024): two ints each, within the per-chunk counts' region
        int heads = 28;
        for (int count : new int[] {100, 4096, 262_000, 1_048_576}) {
            long withoutCounts = 4L * (2L * heads + count + 3L * 2048 + 32);
            long blocks = (count + CudaKernels.MIN_SELECT_CHUNK - 1) / CudaKernels.MIN_SELECT_CHUNK;
            assertEquals(withoutCounts + 8L * blocks, CudaKernels.voteScratchBytes(heads, count), "count " + count);
        }
    }

    @Test
    void everyBlockReturnsOnAHitBeforeAnyBarrier() throws IOException {
        String src = source();
        int hit = src.indexOf("if (ctrl[0]) return;");
        int firstBarrier = src.indexOf("ts_grid_barrier(barrier");
        assertTrue(hit > 0 && firstBarrier > hit, "the hit test comes before the first barrier");
    }
}
