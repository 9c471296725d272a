package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The choice of TokenSelect's scoring pass and the shapes its kernels are launched with (no GPU needed). */
class ScoringPassTest {

    @Test
    void autoStreamsKeysThroughSharedMemoryOnlyAtLongContexts() {
        // measured: slower at 131K candidates, faster from 524K
        assertFalse(ScoringPass.AUTO.pipelined(131_072 - 640, false));
        assertTrue(ScoringPass.AUTO.pipelined(524_288 - 640, false));
        assertTrue(ScoringPass.AUTO.pipelined(1_048_576 - 640, false));
        assertEquals(393_216, ScoringPass.PIPELINED_MIN_CANDIDATES);
        assertFalse(ScoringPass.AUTO.pipelined(ScoringPass.PIPELINED_MIN_CANDIDATES - 1, false));
        assertTrue(ScoringPass.AUTO.pipelined(ScoringPass.PIPELINED_MIN_CANDIDATES, false));
        // sketches (measured faster pipelined at every count from 32K) take the pipelined pass under AUTO
        for (int n : new int[] {1, 32_768, 131_072, 1_048_576}) {
            assertTrue(ScoringPass.AUTO.pipelined(n, true), "sketches, " + n);
        }
        // the explicit choices hold at every count
        for (int n : new int[] {1, 32_768, 1_048_576}) {
            for (boolean sketched : new boolean[] {false, true}) {
                assertTrue(ScoringPass.PIPELINED.pipelined(n, sketched));
                assertTrue(ScoringPass.PIPELINED_INT8.pipelined(n, sketched));
                assertFalse(ScoringPass.REGISTER_FED.pipelined(n, sketched));
            }
        }
    }

    @Test
    void eachPassNamesItsKernel() {
        int longer = 1_048_576;
        int shorter = 32_768;
        assertEquals("ts_scores_tc_d128", ScoringPass.REGISTER_FED.kernel(128, longer, false));
        assertEquals("ts_scores_sketch_d64", ScoringPass.REGISTER_FED.kernel(64, longer, true));
        assertEquals("ts_scores_pipe_d128", ScoringPass.PIPELINED.kernel(128, shorter, false));
        assertEquals("ts_scores_sketch_pipe_d64", ScoringPass.PIPELINED.kernel(64, shorter, true));
        assertEquals("ts_scores_sketch_i8_d128", ScoringPass.PIPELINED_INT8.kernel(128, shorter, true));
        // int8 products are for sketches; keys go through the pipelined bf16 pass
        assertEquals("ts_scores_pipe_d64", ScoringPass.PIPELINED_INT8.kernel(64, shorter, false));
        assertEquals("ts_scores_tc_d128", ScoringPass.AUTO.kernel(128, shorter, false));
        assertEquals("ts_scores_pipe_d128", ScoringPass.AUTO.kernel(128, longer, false));
        assertEquals("ts_scores_sketch_pipe_d128", ScoringPass.AUTO.kernel(128, longer, true));
        assertEquals("ts_scores_sketch_pipe_d64", ScoringPass.AUTO.kernel(64, shorter, true));
    }

    @Test
    void sharedMemoryMatchesTheKernelsStagesAndFitsTwoBlocksPerMultiprocessor() throws IOException {
        String src = Files.readString(Path.of("src/main/cuda/ts_scores_pipe.cu"));
        int warps = intOf(src, "#define TSP_WARPS (\\d+)", 1);
        Matcher stages = Pattern.compile("STAGES = SKETCH \\? (\\d+) : (\\d+);").matcher(src);
        assertTrue(stages.find(), "ts_scores_pipe.cu declares its stages");
        int sketchStages = Integer.parseInt(stages.group(1));
        int keyStages = Integer.parseInt(stages.group(2));
        for (int d : new int[] {64, 128}) {
            assertEquals(warps * keyStages * 16 * 2 * d, ScoringPass.pipelinedSharedBytes(d, false), "keys, d " + d);
            assertEquals(warps * sketchStages * (16 * d + 64), ScoringPass.pipelinedSharedBytes(d, true), "sketches, d " + d);
        }
        // 228 KiB of shared memory per Hopper multiprocessor, 1 KiB of it reserved per block
        int perSm = 228 * 1024;
        assertTrue(2 * (ScoringPass.pipelinedSharedBytes(128, false) + 1024) <= perSm);
        // the sketch kernel asks for three blocks per multiprocessor (__launch_bounds__(256, 3))
        assertTrue(3 * (ScoringPass.pipelinedSharedBytes(128, true) + 1024) <= perSm);
    }

    @Test
    void theSwitchTakesItsLabelsAndNamesTheChoicesOtherwise() {
        assertEquals(ScoringPass.PIPELINED, ScoringPass.parse(" Pipelined "));
        assertEquals(ScoringPass.REGISTER_FED, ScoringPass.parse("register-fed"));
        assertEquals(ScoringPass.AUTO, ScoringPass.parse("auto"));
        assertEquals(ScoringPass.PIPELINED_INT8, ScoringPass.parse("pipelined-int8"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScoringPass.parse("true"));
        assertTrue(e.getMessage().contains("tokenselect.cuda.scoringPass"), e.getMessage());
        assertTrue(e.getMessage().contains("register-fed"), e.getMessage());
    }

    private static int intOf(String src, String regex, int group) {
        Matcher m = Pattern.compile(regex).matcher(src);
        assertTrue(m.find(), regex);
        return Integer.parseInt(m.group(group));
    }
}
