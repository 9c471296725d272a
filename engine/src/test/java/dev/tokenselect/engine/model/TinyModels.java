package dev.tokenselect.engine.model;

import java.io.IOException;
import java.nio.file.Path;

import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Small model configurations of real architectures, written with the synthetic writer. */
public final class TinyModels {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TinyModels() {
    }

    public static ObjectNode qwen3Config() {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("Qwen3ForCausalLM");
        c.put("model_type", "qwen3");
        c.put("hidden_size", 32);
        c.put("intermediate_size", 64);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("head_dim", 16);
        c.put("vocab_size", 512);
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", 1000000.0);
        c.put("tie_word_embeddings", false);
        c.put("max_position_embeddings", 4096);
        return c;
    }

    public static Path write(Path dir, ObjectNode config, DType dtype, int shards) throws IOException {
        ObjectNode gen = JSON.createObjectNode();
        gen.putArray("eos_token_id").add(7);
        SyntheticModelWriter.write(dir, config, gen, 42, dtype, shards, null);
        return dir;
    }
}
