package dev.tokenselect.engine.model;

/**
 * One transformer block's tensors in Hugging Face layout ({@code [out, in]} matrices).
 * Bias and q/k-norm tensors are null where the architecture has none.
 */
public record LayerWeights(
        Tensor attentionNorm,
        Tensor wq, Tensor wk, Tensor wv, Tensor wo,
        Tensor bq, Tensor bk, Tensor bv,
        Tensor qNorm, Tensor kNorm,
        Tensor ffnNorm,
        Tensor wGate, Tensor wUp, Tensor wDown) {
}
