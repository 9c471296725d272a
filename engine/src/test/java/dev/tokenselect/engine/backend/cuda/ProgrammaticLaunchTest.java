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
                    // the batched GEMV entries call gemv_batch_body, which prefetches weights (read-only) first
                    boolean gemv = first.startsWith("/* PDL_BEGIN in the body") && src.substring(m.end(),
                            Math.min(src.length(), m.end() + 400)).contains("gemv_batch_body<");
                    if (!waits && !gemv) {
                        missing.add(f.getFileName() + ": " + src.substring(m.start(), Math.min(m.end(), m.start() + 120)));
                    }
                }
            }
        }
        assertTrue(kernels > 30, "found only " + kernels + " kernels");
        assertEquals(List.of(), missing);
        String decode = Files.readString(SOURCES.resolve("decode.cu"));
        int body = decode.indexOf("__device__ __forceinline__ void gemv_batch_body(");
        int prefetch = decode.indexOf("prefetch.global.L2", body);
        int begin = decode.indexOf("PDL_BEGIN();", body);
        int firstInput = decode.indexOf("__ldg(", body);
        assertTrue(body > 0 && prefetch > body && begin > prefetch && firstInput > begin,
                "gemv_batch_body prefetches weights, then waits, then reads its input");
    }

    @Test
    void withoutCudaTheLaunchPathSaysWhy() {
        String why = ProgrammaticLaunch.unavailableReason();
        if (Files.exists(Path.of("/dev/nvidiactl"))) {
            return; // a GPU machine binds the real function
        }
        assertTrue(why != null && why.contains("cuLaunchKernelEx"), String.valueOf(why));
    }
}
