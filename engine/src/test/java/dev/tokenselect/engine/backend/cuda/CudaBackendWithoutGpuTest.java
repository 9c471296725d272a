package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** What runs without a GPU: the clear "no GPU" error, and the kernels packaged when nvcc was there. */
class CudaBackendWithoutGpuTest {

    @TempDir
    Path dir;

    private static boolean gpuPresent() {
        return Files.exists(Path.of("/dev/nvidiactl")) || Files.exists(Path.of("/dev/nvidia0"));
    }

    /** nvcc as the build script finds it: CUDA_HOME, PATH, /usr/local/cuda/bin. */
    static boolean nvccPresent() {
        String home = System.getenv("CUDA_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "nvcc"))) {
            return true;
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String p : path.split(java.io.File.pathSeparator)) {
                if (!p.isEmpty() && Files.isExecutable(Path.of(p, "nvcc"))) {
                    return true;
                }
            }
        }
        return Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"));
    }

    private Model tinyModel() throws IOException {
        ObjectNode config;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/models/qwen2.json")) {
            config = (ObjectNode) JsonMapper.builder().build().readTree(in).get("config");
        }
        config.put("vocab_size", 512);
        SyntheticModelWriter.write(dir, config, null, 1, DType.BF16, 1, null);
        return Model.load(dir);
    }

    @Test
    void reportsNoGpuClearly() throws IOException {
        assumeFalse(gpuPresent(), "this machine has an NVIDIA device");
        try (Model model = tinyModel()) {
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                    () -> new CudaBackend(model, CudaBackend.Options.defaults().withKvCapacityTokens(1024)));
            assertTrue(e.getMessage().startsWith("no NVIDIA GPU/driver found"), e.getMessage());
            assertTrue(e.getMessage().contains("--backend cpu"), e.getMessage());
            // and again: the driver class failed to initialise the first time, the message must not change
            CudaUnavailableException again = assertThrows(CudaUnavailableException.class,
                    () -> new CudaBackend(model, CudaBackend.Options.defaults()));
            assertTrue(again.getMessage().startsWith("no NVIDIA GPU/driver found"), again.getMessage());
        }
    }

    @Test
    void selfTestReportsNoGpuWithExitCode2() throws IOException {
        assumeFalse(gpuPresent(), "this machine has an NVIDIA device");
        assertTrue(new CudaSelfTest().run(Path.of("."), false, false, null) == 2);
    }

    @Test
    void kernelsArePackagedWhenNvccExists() throws IOException {
        assumeTrue(nvccPresent(), "nvcc is not installed here");
        assertTrue(CudaDevice.hasKernels(), "cuda/tokenselect.fatbin missing from the classpath although nvcc exists");
        byte[] fatbin;
        try (InputStream in = CudaDevice.class.getResourceAsStream(CudaDevice.FATBIN_RESOURCE)) {
            assertNotNull(in);
            fatbin = in.readAllBytes();
        }
        String text = new String(fatbin, StandardCharsets.ISO_8859_1);
        for (String kernel : new String[] {"embed_bf16", "rmsnorm_rows", "rmsnorm_heads", "gemv_bf16_r1", "gemv_bf16_r4",
                "gemm_bf16_tc", "kv_append", "rope_rows", "attention_d32", "attention_d64", "attention_d128",
                "attention_d256", "attn_combine", "ts_scores", "swiglu_f32", "add_f32", "add_bias_f32", "argmax_f32"}) {
            assertTrue(text.contains(kernel), "kernel " + kernel + " missing from the fatbin");
        }
        // SASS for each target and PTX for compute_90
        for (String arch : new String[] {"sm_80", "sm_86", "sm_89", "sm_90"}) {
            assertTrue(text.contains(arch), arch + " missing from the fatbin");
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertTrue(Bf16.fromFloat(1.0f) == (short) 0x3f80);
        assertTrue(Bf16.toFloat(Bf16.fromFloat(1.00390625f)) == 1.0f); // halfway, even stays
        assertTrue(Bf16.toFloat(Bf16.fromFloat(1.01171875f)) == 1.015625f); // halfway, odd rounds up
        assertTrue(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.NaN))));
    }
}
