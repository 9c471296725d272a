package dev.tokenselect.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A reference fixture of {@code fixtures/DIR/NAME.json} and its logits: {@code models} from
 * transformers, {@code tokenselect} from the independent PyTorch TokenSelect.
 */
record ReferenceFixture(String dir, String name, JsonNode json) {

    static final String[] NAMES = {"llama3", "llama_linear", "qwen2", "qwen3", "mistral"};
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static ReferenceFixture load(String name) {
        return load("models", name);
    }

    static ReferenceFixture load(String dir, String name) {
        try (InputStream in = resource(dir, name + ".json")) {
            return new ReferenceFixture(dir, name, JSON.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String dir, String file) {
        InputStream in = ReferenceFixture.class.getResourceAsStream("/fixtures/" + dir + "/" + file);
        if (in == null) {
            throw new IllegalStateException("missing test resource fixtures/" + dir + "/" + file);
        }
        return in;
    }

    ObjectNode config() {
        return (ObjectNode) json.get("config");
    }

    DType storage() {
        return DType.parse(json.get("storage_dtype").asString());
    }

    /** Writes the synthetic model of this fixture (its config and seed) in the given storage. */
    Path write(Path dir, DType dtype, int shards) throws IOException {
        SyntheticModelWriter.write(dir, config(), json.get("generation_config"), json.get("seed").asLong(),
                dtype, shards, null);
        return dir;
    }

    Path write(Path dir) throws IOException {
        return write(dir, storage(), 1);
    }

    int[] promptIds() {
        return ints(json.get("prompt_ids"));
    }

    int[] greedyIds() {
        return ints(json.get("greedy_ids"));
    }

    float[] logits() {
        int vocab = json.get("vocab_size").asInt();
        try (InputStream in = resource(dir, json.get("logits_file").asString())) {
            byte[] bytes = in.readAllBytes();
            assertEquals(4L * vocab, bytes.length, "logits file size");
            float[] out = new float[vocab];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tensors transformers' model has: name to shape. */
    Map<String, String> tensors() {
        Map<String, String> m = new TreeMap<>();
        for (JsonNode t : json.get("tensors")) {
            m.put(t.get("name").asString(), t.get("shape").toString().replace(" ", ""));
        }
        return m;
    }

    /** The tensors in the files of a written model: name to shape. */
    static Map<String, String> tensorsOf(Model model) {
        Map<String, String> m = new TreeMap<>();
        model.files().entries().forEach((name, e) -> m.put(name, Arrays.toString(e.shape()).replace(" ", "")));
        return m;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** max|a − b| / max|b|. */
    static double relativeError(float[] ours, float[] reference) {
        assertEquals(reference.length, ours.length, "logits length");
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < ours.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) ours[i] - reference[i]));
            maxRef = Math.max(maxRef, Math.abs((double) reference[i]));
        }
        return maxDiff / maxRef;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
