package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * With programmatic dependent launch a kernel may start while the one before still runs, so every
 * kernel must wait for it (PDL_BEGIN) before it touches memory another kernel writes. A kernel that
 * forgets would race only on a GPU, and only sometimes: this reads the sources instead.
 */
class ProgrammaticLaunchTest {

    private static final Path SOURCES = Path.of("src/main/cuda");

    @Test
    void everyKernelWaitsForItsPredecessorFirst() throws IOException {
        Pattern global = Pattern.compile("__global__[^{]*\\)\\s*\\{([^\\n]*)");
        List<String> missing = new ArrayList<>();
        int kernels = 0;
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).sorted().toList()) {
                String src = Files.readString(f);
                Matcher m = global.matcher(src);
                while (m.find()) {
                    kernels++;
                    String first = m.group(1).strip();
                    boolean waits = first.startsWith("PDL_BEGIN();");
                    // the GEMV entries call gemv_batch_body or gemv_spread_body, which prefetch weights
                    // (read-only) first
                    String after = src.substring(m.end(), Math.min(src.length(), m.end() + 400));
                    boolean gemv = first.startsWith("/* PDL_BEGIN in the body")
                            && (after.contains("gemv_batch_body<") || after.contains("gemv_spread_body<"));
                    if (!waits && !gemv) {
                        missing.add(f.getFileName() + ": " + src.substring(m.start(), Math.min(m.end(), m.start() + 120)));
                    }
                }
            }
        }
        assertTrue(kernels > 30, "found only " + kernels + " kernels");
        assertEquals(List.of(), missing);
        prefetchesThenWaitsThenReads("decode.cu", "gemv_batch_body");
        prefetchesThenWaitsThenReads("gemv_spread.cu", "gemv_spread_body");
    }

    private static void prefetchesThenWaitsThenReads(String file, String bodyName) throws IOException {
        String src = Files.readString(SOURCES.resolve(file));
        int body = src.indexOf("__device__ __forceinline__ void " + bodyName + "(");
        int prefetch = src.indexOf("prefetch.global.L2", body);
        int begin = src.indexOf("PDL_BEGIN();", body);
        int firstInput = firstOf(src, body, "__ldg(", "stage_input_row(");
        assertTrue(body > 0 && prefetch > body && begin > prefetch && firstInput > begin,
                bodyName + " prefetches weights, then waits, then reads its input");
    }

    @Test
    void withoutCudaTheLaunchPathSaysWhy() {
        String why = ProgrammaticLaunch.unavailableReason();
        if (Files.exists(Path.of("/dev/nvidiactl"))) {
            return; // a GPU machine binds the real function
        }
        assertTrue(why != null && why.contains("cuLaunchKernelEx"), String.valueOf(why));
    }

    /** Where the first of the markers occurs in src from {@code from} on; -1 if none does. */
    private static int firstOf(String src, int from, String... markers) {
        int first = -1;
        for (String m : markers) {
            int at = src.indexOf(m, from);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }
}
