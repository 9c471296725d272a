package dev.tokenselect.engine.model;

/**
 * Rotary-embedding frequency scaling from {@code rope_scaling} (or {@code rope_parameters}).
 * Computes the inverse frequencies exactly as transformers' rope initialisers do.
 */
public sealed interface RopeScaling {

    None NONE = new None();

    record None() implements RopeScaling {}

    /** Position interpolation: every frequency divided by {@code factor}. */
    record Linear(double factor) implements RopeScaling {}

    /** Llama 3.1: low frequencies divided by {@code factor}, high kept, a smooth blend between. */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements RopeScaling {}

    /** Inverse frequencies for the {@code rotaryDim / 2} rotated pairs, in fp32 as transformers keeps them. */
    default float[] inverseFrequencies(double theta, int rotaryDim) {
        float[] inv = new float[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            // transformers: 1 / base ** (arange(0, dim, 2).float() / dim), evaluated in fp32
            float exponent = (float) (2 * i) / (float) rotaryDim;
            inv[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        switch (this) {
            case None n -> { }
            case Linear l -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = (float) (inv[i] / l.factor());
                }
            }
            case Llama3 l -> {
                double lowWavelen = l.originalMaxPositionEmbeddings() / l.lowFreqFactor();
                double highWavelen = l.originalMaxPositionEmbeddings() / l.highFreqFactor();
                for (int i = 0; i < inv.length; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    double scaled = wavelen > lowWavelen ? inv[i] / l.factor() : inv[i];
                    if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                        double smooth = (l.originalMaxPositionEmbeddings() / wavelen - l.lowFreqFactor())
                                / (l.highFreqFactor() - l.lowFreqFactor());
                        scaled = (1 - smooth) * scaled / l.factor() + smooth * scaled;
                    }
                    inv[i] = (float) scaled;
                }
            }
        }
        return inv;
    }
}
