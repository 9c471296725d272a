package dev.tokenselect.engine.model.synthetic;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** config.json of released models' geometries, for random-weight models of the same shape. */
public final class Presets {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Map<String, Supplier<ObjectNode>> PRESETS = new TreeMap<>(Map.of(
            "qwen2.5-0.5b", Presets::qwen25HalfB,
            "qwen2-7b", Presets::qwen2SevenB,
            "llama-3.2-1b", Presets::llama32OneB,
            "qwen3-0.6b", Presets::qwen3SixHundredM));

    private Presets() {
    }

    public static ObjectNode config(String name) {
        Supplier<ObjectNode> p = PRESETS.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + String.join(", ", PRESETS.keySet()));
        }
        return p.get();
    }

    public static java.util.Set<String> names() {
        return PRESETS.keySet();
    }

    /**
     * A tiny Qwen3 (2 layers, hidden 32, 4 query heads and 2 KV heads of dim 16) for tests and examples
     * that need a real architecture, not a released geometry.
     */
    public static ObjectNode tinyQwen3(int vocabSize) {
        return base("Qwen3ForCausalLM", "qwen3", 32, 64, 2, 4, 2, vocabSize, 1e6, 1e-6, false, 4096).put("head_dim", 16);
    }

    private static ObjectNode base(String arch, String type, int hidden, int ffn, int layers, int heads, int kvHeads,
                                   int vocab, double theta, double eps, boolean tied, int maxPos) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(arch);
        c.put("model_type", type);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", ffn);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("vocab_size", vocab);
        c.put("rope_theta", theta);
        c.put("rms_norm_eps", eps);
        c.put("tie_word_embeddings", tied);
        c.put("max_position_embeddings", maxPos);
        c.put("hidden_act", "silu");
        c.put("torch_dtype", "bfloat16");
        return c;
    }

    static ObjectNode qwen25HalfB() {
        ObjectNode c = base("Qwen2ForCausalLM", "qwen2", 896, 4864, 24, 14, 2, 151936, 1e6, 1e-6, true, 32768);
        c.put("use_sliding_window", false);
        c.put("bos_token_id", 151643).put("eos_token_id", 151645);
        return c;
    }

    static ObjectNode qwen2SevenB() {
        ObjectNode c = base("Qwen2ForCausalLM", "qwen2", 3584, 18944, 28, 28, 4, 152064, 1e6, 1e-6, false, 131072);
        c.put("use_sliding_window", false);
        c.put("bos_token_id", 151643).put("eos_token_id", 151645);
        return c;
    }

    static ObjectNode llama32OneB() {
        ObjectNode c = base("LlamaForCausalLM", "llama", 2048, 8192, 16, 32, 8, 128256, 500000.0, 1e-5, true, 131072);
        c.put("head_dim", 64);
        c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 32.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        c.put("bos_token_id", 128000);
        c.putArray("eos_token_id").add(128001).add(128008).add(128009);
        return c;
    }

    static ObjectNode qwen3SixHundredM() {
        ObjectNode c = base("Qwen3ForCausalLM", "qwen3", 1024, 3072, 28, 16, 8, 151936, 1e6, 1e-6, true, 40960);
        c.put("head_dim", 128);
        c.put("bos_token_id", 151643).put("eos_token_id", 151645);
        return c;
    }
}
