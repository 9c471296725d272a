package dev.tokenselect.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** Every way a model directory can be broken gives an error that names the file and the problem. */
class ModelLoadingErrorsTest {

    @TempDir
    Path dir;

    private ModelFormatException loadFails() {
        return assertThrows(ModelFormatException.class, () -> Model.load(dir).close());
    }

    private static void assertMentions(ModelFormatException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "'" + e.getMessage() + "' should mention '" + p + "'");
        }
    }

    @Test
    void validModelLoads() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        try (Model m = Model.load(dir)) {
            assertEquals(Architecture.QWEN3, m.config().architecture());
            assertEquals(16, m.config().headDim());
            assertEquals(java.util.Set.of(7), m.generation().eosTokenIds());
        }
    }

    @Test
    void unknownArchitecture() throws IOException {
        ObjectNode c = TinyModels.qwen3Config();
        c.putArray("architectures").add("GPTNeoXForCausalLM");
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(loadFails(), "config.json", "unknown architecture 'GPTNeoXForCausalLM'", "Qwen3ForCausalLM");
    }

    @Test
    void missingConfig() {
        assertMentions(loadFails(), "missing config.json");
    }

    @Test
    void notADirectory() throws IOException {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        var e = assertThrows(ModelFormatException.class, () -> Model.load(file));
        assertMentions(e, "plain.txt", "not a directory");
    }

    @Test
    void missingWeights() throws IOException {
        Files.writeString(dir.resolve("config.json"), TinyModels.qwen3Config().toString());
        assertMentions(loadFails(), "model.safetensors", "model.safetensors.index.json");
    }

    @Test
    void missingTensor() throws IOException {
        // The weights of a 2-layer model under a config that asks for 3 layers.
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        ObjectNode c = TinyModels.qwen3Config();
        c.put("num_hidden_layers", 3);
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(loadFails(), "missing tensor 'model.layers.2.input_layernorm.weight'", "[32]");
    }

    @Test
    void misShapedTensor() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        ObjectNode c = TinyModels.qwen3Config();
        c.put("intermediate_size", 96);
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(loadFails(), "model.safetensors", "mlp.gate_proj.weight", "[64, 32]", "[96, 32]");
    }

    @Test
    void truncatedFile() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        Path f = dir.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() - 1000);
        }
        assertMentions(loadFails(), "model.safetensors", "truncated file", "download the file again");
    }

    @Test
    void fileShorterThanHeaderLength() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertMentions(loadFails(), "model.safetensors", "truncated file");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        Path f = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, bytes.length * 4L);
        Files.write(f, bytes);
        assertMentions(loadFails(), "model.safetensors", "bad header", "does not fit");
    }

    @Test
    void headerNotJson() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        Path f = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(f);
        bytes[8] = '#';
        Files.write(f, bytes);
        assertMentions(loadFails(), "model.safetensors", "bad header", "not valid JSON");
    }

    /** Rewrites a safetensors header in place of the old one, keeping the data section. */
    private static void rewriteHeader(Path f, java.util.function.UnaryOperator<String> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(f);
        int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, length, StandardCharsets.UTF_8);
        byte[] edited = edit.apply(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + edited.length + bytes.length - 8 - length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(edited.length).put(edited).put(bytes, 8 + length, bytes.length - 8 - length);
        Files.write(f, out.array());
    }

    @Test
    void headerOffsetsDisagreeWithShape() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        // Claim F32 for a BF16 tensor: the byte span no longer matches the shape.
        rewriteHeader(dir.resolve("model.safetensors"), h -> h.replaceFirst("\"BF16\"", "\"F32\""));
        assertMentions(loadFails(), "model.safetensors", "bad header", "data_offsets span");
    }

    @Test
    void unsupportedDtype() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        rewriteHeader(dir.resolve("model.safetensors"), h -> h.replaceFirst("\"BF16\"", "\"I16\""));
        assertMentions(loadFails(), "model.safetensors", "stored as I16", "BF16, F16 or F32");
    }

    @Test
    void missingShard() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 2);
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertMentions(loadFails(), "model.safetensors.index.json", "missing shard file 'model-00002-of-00002.safetensors'");
    }

    @Test
    void shardIndexEscapingTheDirectory() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 2);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace("model-00001-of-00002", "../model-00001-of-00002"));
        assertMentions(loadFails(), "outside the model directory");
    }

    @Test
    void unsupportedRopeScaling() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        ObjectNode c = TinyModels.qwen3Config();
        c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(loadFails(), "config.json", "rope scaling type 'yarn'");
    }

    @Test
    void badHeadCounts() throws IOException {
        TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1);
        ObjectNode c = TinyModels.qwen3Config();
        c.put("num_key_value_heads", 3);
        Files.writeString(dir.resolve("config.json"), c.toString());
        assertMentions(loadFails(), "config.json", "not a multiple of num_key_value_heads 3");
    }

    /** A tensor that lies beyond the 2 GB mark is read correctly (sparse file: no disk is used). */
    @Test
    void tensorsPastTwoGigabytesAreMapped() throws IOException {
        Path f = dir.resolve("big.safetensors");
        long gap = 3L << 30;
        String header = "{\"pad\":{\"dtype\":\"BF16\",\"shape\":[" + (gap / 2) + "],\"data_offsets\":[0," + gap + "]},"
                + "\"far\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + gap + "," + (gap + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(len.array());
            raf.write(h);
            raf.seek(8 + h.length + gap);
            ByteBuffer vals = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2.25f);
            raf.write(vals.array());
        }
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor t = SafetensorsFile.open(f, arena).tensor("far");
            assertEquals(1.5f, t.get(0));
            assertEquals(-2.25f, t.get(1));
        }
    }
}
