package dev.tokenselect.engine.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The weights of a Hugging Face model directory: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}. Owns the memory mappings; closing it unmaps every file.
 */
public final class WeightFiles implements AutoCloseable {

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Arena arena;
    private final Map<String, SafetensorsFile> byTensor;
    private final Path directory;

    private WeightFiles(Path directory, Arena arena, Map<String, SafetensorsFile> byTensor) {
        this.directory = directory;
        this.arena = arena;
        this.byTensor = byTensor;
    }

    public static WeightFiles open(Path directory) {
        Arena arena = Arena.ofShared();
        try {
            return new WeightFiles(directory, arena, mapAll(directory, arena));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, SafetensorsFile> mapAll(Path dir, Arena arena) {
        Path single = dir.resolve(SINGLE);
        Path index = dir.resolve(INDEX);
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        if (Files.isRegularFile(index)) {
            JsonNode weightMap;
            try {
                weightMap = JsonMapper.builder().build().readTree(Files.readString(index)).get("weight_map");
            } catch (IOException | JacksonException e) {
                throw new ModelFormatException(index, "cannot parse the shard index: " + e.getMessage(), e);
            }
            if (weightMap == null || !weightMap.isObject()) {
                throw new ModelFormatException(index, "bad index: no \"weight_map\" object");
            }
            Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
                String shardName = e.getValue().asString();
                Path shard = dir.resolve(shardName).normalize();
                if (!shard.getParent().equals(dir.normalize())) {
                    throw new ModelFormatException(index, "bad index: shard '" + shardName + "' lies outside the model directory");
                }
                if (!Files.isRegularFile(shard)) {
                    throw new ModelFormatException(index, "missing shard file '" + shardName
                            + "' named for tensor '" + e.getKey() + "'; download the complete model");
                }
                SafetensorsFile file = shards.computeIfAbsent(shardName, n -> SafetensorsFile.open(shard, arena));
                if (!file.entries().containsKey(e.getKey())) {
                    throw new ModelFormatException(shard, "tensor '" + e.getKey() + "' is named in " + INDEX
                            + " but is not in this shard");
                }
                byTensor.put(e.getKey(), file);
            }
        } else if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single, arena);
            file.entries().keySet().forEach(name -> byTensor.put(name, file));
        } else {
            throw new ModelFormatException(dir, "no weights: expected " + SINGLE + " or " + INDEX
                    + " (only safetensors checkpoints are read)");
        }
        return byTensor;
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    /** The tensor, checked against the shape the architecture needs. */
    public Tensor require(String name, long... shape) {
        SafetensorsFile file = byTensor.get(name);
        if (file == null) {
            throw new ModelFormatException(directory, "missing tensor '" + name + "' (expected shape "
                    + Arrays.toString(shape) + "); the checkpoint does not match its config.json");
        }
        Tensor t = file.tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException(file.path(), "tensor '" + name + "' has shape " + t.shapeString()
                    + " but config.json implies " + Arrays.toString(shape));
        }
        return t;
    }

    /** Bytes of all tensors, for the fingerprint and for memory estimates. */
    public Map<String, SafetensorsFile.Entry> entries() {
        Map<String, SafetensorsFile.Entry> all = new LinkedHashMap<>();
        byTensor.forEach((name, file) -> all.put(name, file.entries().get(name)));
        return all;
    }

    @Override
    public void close() {
        arena.close();
    }
}
