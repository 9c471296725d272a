package dev.tokenselect.engine.model;

import java.io.IOException;
import java.nio.file.Path;

import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Small model configurations of real architectures, written with the synthetic writer. */
public final class TinyModels {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TinyModels() {
    }

    public static ObjectNode qwen3Config() {
        return Presets.tinyQwen3(512);
    }

    public static Path write(Path dir, ObjectNode config, DType dtype, int shards) throws IOException {
        ObjectNode gen = JSON.createObjectNode();
        gen.putArray("eos_token_id").add(7);
        SyntheticModelWriter.write(dir, config, gen, 42, dtype, shards, null);
        return dir;
    }
}
