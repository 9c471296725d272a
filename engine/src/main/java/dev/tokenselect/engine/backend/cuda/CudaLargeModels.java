package dev.tokenselect.engine.backend.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import dev.tokenselect.engine.model.Model;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CUDA backend against transformers on random-weight models of released geometries, saved by
 * transformers itself ({@code tools/gpu/reference_large.py --save-models}): for each {@code NAME.json}
 * with a model directory {@code NAME/} beside it, last-position logits within 2e-2 relative and
 * teacher-forced greedy tokens equal wherever the reference's top-2 margin exceeds 0.05; then the
 * replayed decode against eager launches and, with benchmarks on, decode speed at context depths.
 */
final class CudaLargeModels {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int[] DEPTHS = {0, 4096, 32768, 131072};

    private final CudaSelfTest report;

    CudaLargeModels(CudaSelfTest report) {
        this.report = report;
    }

    void run(Path refDir, boolean bench) throws IOException {
        List<Path> refs;
        try (Stream<Path> s = Files.list(refDir)) {
            refs = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        if (refs.isEmpty()) {
            report.fail("transformers models", "no NAME.json references in " + refDir);
        }
        for (Path ref : refs) {
            String name = ref.getFileName().toString().replace(".json", "");
            Path modelDir = refDir.resolve(name);
            if (!Files.isDirectory(modelDir)) {
                report.fail("model " + name, "no model directory " + modelDir + " beside its reference");
                continue;
            }
            JsonNode f = JSON.readTree(Files.readString(ref));
            long t0 = System.nanoTime();
            try (Model model = Model.load(modelDir);
                 CudaBackend backend = new CudaBackend(model, CudaBackend.Options.defaults().withKvCapacityTokens(140_000))) {
                System.out.printf(Locale.ROOT, "     %s loaded in %.1f s: %s%n", name, (System.nanoTime() - t0) / 1e9,
                        backend.summary());
                check(backend, name, f, ref);
                new CudaDecodeCheck(report).graphVsEager(backend, name, 20_000);
                if (bench) {
                    new CudaDecodeCheck(report).decodeBenchmark(backend, name, DEPTHS);
                }
            }
        }
    }

    private void check(CudaBackend backend, String name, JsonNode f, Path ref) throws IOException {
        int vocab = f.get("vocab_size").asInt();
        int[] prompt = ints(f.get("prompt_ids"));
        float[] expected = new float[vocab];
        ByteBuffer.wrap(Files.readAllBytes(ref.resolveSibling(f.get("logits_file").asString())))
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected);
        int[] greedy = ints(f.get("greedy_ids"));
        JsonNode m = f.get("greedy_top2_margins");
        try (CudaSequence seq = backend.newSequence()) {
            float[] logits = backend.forward(seq, prompt);
            double err = CudaSelfTest.relMax(logits, expected);
            report.check("model " + name + " (transformers save_pretrained, bf16) logits vs transformers", err, 2e-2);
            int compared = 0;
            int mismatch = -1;
            for (int i = 0; i < greedy.length && mismatch < 0; i++) {
                if (m.get(i).asDouble() > 0.05) {
                    compared++;
                    if (CudaSelfTest.argmax(logits) != greedy[i]) {
                        mismatch = i;
                    }
                }
                logits = backend.forward(seq, new int[] {greedy[i]}, true); // the replayed decode step
            }
            String detail = compared + "/" + greedy.length + " steps compared (teacher-forced, margin > 0.05)";
            if (mismatch < 0 && compared > 0) {
                report.pass("model " + name + " greedy", detail);
            } else {
                report.fail("model " + name + " greedy", detail + (compared == 0 ? ", nothing compared"
                        : ", first mismatch at step " + mismatch));
            }
            report.summary(String.format(Locale.ROOT, "model %-14s (transformers) logits err %.2e  greedy %d/%d%s", name,
                    err, compared, greedy.length, mismatch < 0 ? "" : " MISMATCH"));
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
