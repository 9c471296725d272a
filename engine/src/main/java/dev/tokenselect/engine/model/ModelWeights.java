package dev.tokenselect.engine.model;

import java.util.ArrayList;
import java.util.List;

/** All tensors of a model, bound by name and checked against the config's geometry. */
public record ModelWeights(Tensor embedding, List<LayerWeights> layers, Tensor finalNorm, Tensor lmHead) {

    public static ModelWeights bind(ModelConfig c, WeightFiles files) {
        long hidden = c.hiddenSize();
        long q = c.queryDim();
        long kv = c.kvDim();
        long ffn = c.intermediateSize();
        Tensor embedding = files.require("model.embed_tokens.weight", c.vocabSize(), hidden);
        List<LayerWeights> layers = new ArrayList<>(c.numLayers());
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new LayerWeights(
                    files.require(p + "input_layernorm.weight", hidden),
                    files.require(p + "self_attn.q_proj.weight", q, hidden),
                    files.require(p + "self_attn.k_proj.weight", kv, hidden),
                    files.require(p + "self_attn.v_proj.weight", kv, hidden),
                    files.require(p + "self_attn.o_proj.weight", hidden, q),
                    c.qkvBias() ? files.require(p + "self_attn.q_proj.bias", q) : null,
                    c.qkvBias() ? files.require(p + "self_attn.k_proj.bias", kv) : null,
                    c.qkvBias() ? files.require(p + "self_attn.v_proj.bias", kv) : null,
                    c.qkNorm() ? files.require(p + "self_attn.q_norm.weight", c.headDim()) : null,
                    c.qkNorm() ? files.require(p + "self_attn.k_norm.weight", c.headDim()) : null,
                    files.require(p + "post_attention_layernorm.weight", hidden),
                    files.require(p + "mlp.gate_proj.weight", ffn, hidden),
                    files.require(p + "mlp.up_proj.weight", ffn, hidden),
                    files.require(p + "mlp.down_proj.weight", hidden, ffn)));
        }
        Tensor norm = files.require("model.norm.weight", hidden);
        // Tied checkpoints usually omit lm_head; some write it anyway, and then the file's copy is used.
        Tensor lmHead = c.tieWordEmbeddings() && !files.contains("lm_head.weight")
                ? embedding : files.require("lm_head.weight", c.vocabSize(), hidden);
        return new ModelWeights(embedding, List.copyOf(layers), norm, lmHead);
    }

    /** Bytes of weights read once per decoded token (everything but the embedding table). */
    public long bytesPerToken() {
        long bytes = finalNorm.numel() * finalNorm.dtype().bytes() + lmHead.numel() * lmHead.dtype().bytes();
        for (LayerWeights l : layers) {
            for (Tensor t : new Tensor[] {l.attentionNorm(), l.wq(), l.wk(), l.wv(), l.wo(), l.bq(), l.bk(), l.bv(),
                    l.qNorm(), l.kNorm(), l.ffnNorm(), l.wGate(), l.wUp(), l.wDown()}) {
                if (t != null) {
                    bytes += t.numel() * t.dtype().bytes();
                }
            }
        }
        return bytes;
    }
}
