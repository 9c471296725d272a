package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kernel name the host code can launch is an entry point of the CUDA sources, so a renamed or
 * dropped instantiation fails here, on a machine without a GPU, instead of at run time on one.
 */
class KernelNamesTest {

    private static final Path SOURCES = Path.of("src/main/cuda");
    private static final Path HOST = Path.of("src/main/java/dev/tokenselect/engine/backend/cuda");
    private static Set<String> entryPoints;

    @BeforeAll
    static void parseSources() throws IOException {
        entryPoints = new HashSet<>();
        Pattern global = Pattern.compile("extern \"C\" __global__ void(?: __launch_bounds__\\([^)]*\\))?\\s+(\\w+)\\s*\\(");
        // entry points stamped out by macros: FG_ENTRY(flash_gqa_d64, 64, true), GEMV_BATCH_ENTRY(1, 5, 4)
        Pattern named = Pattern.compile("^\\w+_ENTRY\\(([a-z]\\w*),", Pattern.MULTILINE);
        Pattern gemvBatch = Pattern.compile("^GEMV_BATCH_ENTRY\\((\\d+), (\\d+), \\d+\\)", Pattern.MULTILINE);
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                String src = Files.readString(f);
                Matcher m = global.matcher(src);
                while (m.find()) {
                    if (!m.group(1).contains("##")) {
                        entryPoints.add(m.group(1));
                    }
                }
                Matcher n = named.matcher(src);
                while (n.find()) {
                    entryPoints.add(n.group(1));
                }
                Matcher g = gemvBatch.matcher(src);
                while (g.find()) {
                    entryPoints.add("gemv_batch_r" + g.group(1) + "_b" + g.group(2));
                }
            }
        }
        assertTrue(entryPoints.containsAll(Set.of("kv_append_batch", "attn_combine", "gemv_batch_r1_b1", "gemv_batch_xs_r1_b1", "attn_decode_sel_d128", "ts_radix_write")), entryPoints::toString);
    }

    @Test
    void everyBatchedGemvVariantIsInstantiated() {
        int[] rowCounts = {896, 1152, 4096, 4608, 18944, 37888, 151936};
        for (int sms : new int[] {108, 114, 132}) {
            for (int rows : rowCounts) {
                for (int group = 1; group <= CudaKernels.GEMV_MAX_BATCH; group++) {
                    for (boolean multiRow : new boolean[] {false, true}) {
                        String kernel = CudaKernels.gemvBatchKernel(group,
                                CudaKernels.gemvRowsPerWarp(group, rows, sms, multiRow));
                        assertTrue(entryPoints.contains(kernel), kernel + " for " + group + " vectors, " + rows
                                + " rows, " + sms + " SMs, multi-row " + multiRow + " is not in the CUDA sources");
                    }
                }
            }
        }
    }

    @Test
    void everyPrefillAttentionPrecisionHasItsKernelsForBothHeadDims() {
        for (PrefillAttentionPrecision p : PrefillAttentionPrecision.values()) {
            for (int d : new int[] {64, 128}) {
                assertTrue(entryPoints.contains(p.kernel(d)), p.kernel(d) + " is not in the CUDA sources");
                assertTrue(entryPoints.contains(p.stageKernel(d)), p.stageKernel(d) + " is not in the CUDA sources");
            }
        }
    }

    @Test
    void theTensorCoreBatchedGemvHasItsBlockWidths() {
        for (int rows : new int[] {3584, 152064}) {
            String kernel = "gemv_batch_tc_r" + CudaKernels.gemvBatchTcRowGroups(rows, 132);
            assertTrue(entryPoints.contains(kernel), kernel + " is not in the CUDA sources");
        }
    }

    @Test
    void everyGemmActivationSettingHasItsKernel() {
        for (GemmActivations a : GemmActivations.values()) {
            assertTrue(entryPoints.contains(a.kernel()), a.kernel() + " is not in the CUDA sources");
            if (a.hasWgmmaKernel()) {
                assertTrue(entryPoints.contains(a.wgmmaKernel()), a.wgmmaKernel() + " is not in the CUDA sources");
                assertTrue(entryPoints.contains(a.x16Kernel()), a.x16Kernel() + " is not in the CUDA sources");
            }
        }
    }

    @Test
    void everyDecodeAttentionPrecisionHasItsKernelForBothHeadDims() {
        for (DecodeAttentionPrecision p : DecodeAttentionPrecision.values()) {
            for (int d : new int[] {64, 128}) {
                assertTrue(entryPoints.contains(p.kernel(d)), p.kernel(d) + " is not in the CUDA sources");
                assertTrue(entryPoints.contains(p.selectedKernel(d)),
                        p.selectedKernel(d) + " is not in the CUDA sources");
                for (String bulk : new String[] {p.kernel(d, true), p.selectedKernel(d, true)}) {
                    assertTrue(entryPoints.contains(bulk), bulk + " is not in the CUDA sources");
                }
            }
            for (TensorCopyDecode scheme : TensorCopyDecode.values()) {
                if (scheme != TensorCopyDecode.OFF) {
                    assertTrue(entryPoints.contains(scheme.kernel(p)), scheme.kernel(p) + " is not in the CUDA sources");
                }
            }
        }
        for (int d : new int[] {64, 128}) {
            for (String kernel : new String[] {"ts_sketch_build_d" + d, "ts_scores_sketch_d" + d,
                    "ts_decode_gate_sketch_d" + d}) {
                assertTrue(entryPoints.contains(kernel), kernel + " is not in the CUDA sources");
            }
            for (boolean sketched : new boolean[] {false, true}) {
                for (ScoringPass pass : ScoringPass.values()) {
                    for (int candidates : new int[] {1, 1 << 20}) {
                        String kernel = pass.kernel(d, candidates, sketched);
                        assertTrue(entryPoints.contains(kernel), kernel + " is not in the CUDA sources");
                    }
                }
            }
        }
    }

    @Test
    void everyLiteralLaunchNamesAnEntryPoint() throws IOException {
        Pattern launch = Pattern.compile("launch\\(\"(\\w+)\"");
        Set<String> launched = new HashSet<>();
        try (Stream<Path> files = Files.list(HOST)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = launch.matcher(Files.readString(f));
                while (m.find()) {
                    launched.add(m.group(1));
                }
            }
        }
        assertTrue(launched.size() > 15, launched::toString);
        for (String name : launched) {
            // names completed at the call site by a head size ("flash_gqa_d" + d)
            boolean prefix = entryPoints.stream().anyMatch(e -> e.startsWith(name) && e.substring(name.length()).matches("\\d+"));
            assertTrue(entryPoints.contains(name) || prefix, name + " is launched but not defined in the CUDA sources");
        }
    }
}
