package dev.tokenselect.engine.backend.cpu;

import java.util.ArrayList;
import java.util.List;

import dev.tokenselect.engine.model.LayerWeights;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.model.Tensor;

/**
 * A deliberately plain forward pass (scalar loops over {@link Tensor#get}, whole-sequence
 * recomputation, keys rotated up front) used to check the CPU backend where no transformers fixture
 * exists, e.g. sliding-window attention. Accumulates in double.
 */
final class NaiveForward {

    private NaiveForward() {
    }

    /** Logits of the last token of {@code tokens}. */
    static float[] lastLogits(Model model, int[] tokens) {
        ModelConfig c = model.config();
        int n = tokens.length;
        int hidden = c.hiddenSize();
        int d = c.headDim();
        float[] inv = c.ropeScaling().inverseFrequencies(c.ropeTheta(), d);
        float[][] x = new float[n][hidden];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < hidden; j++) {
                x[i][j] = model.weights().embedding().get((long) tokens[i] * hidden + j);
            }
        }
        for (LayerWeights w : model.weights().layers()) {
            List<float[]> qs = new ArrayList<>();
            List<float[]> ks = new ArrayList<>();
            List<float[]> vs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                float[] h = norm(x[i], w.attentionNorm(), c.rmsNormEps());
                float[] q = add(matvec(w.wq(), h), w.bq());
                float[] k = add(matvec(w.wk(), h), w.bk());
                float[] v = add(matvec(w.wv(), h), w.bv());
                if (w.qNorm() != null) {
                    q = perHeadNorm(q, w.qNorm(), d, c.rmsNormEps());
                    k = perHeadNorm(k, w.kNorm(), d, c.rmsNormEps());
                }
                qs.add(rope(q, i, inv, d));
                ks.add(rope(k, i, inv, d));
                vs.add(v);
            }
            for (int i = 0; i < n; i++) {
                float[] att = new float[c.queryDim()];
                int lo = c.slidingWindow() > 0 ? Math.max(0, i - c.slidingWindow() + 1) : 0;
                for (int h = 0; h < c.numHeads(); h++) {
                    int g = h / c.groupSize();
                    double[] s = new double[i - lo + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = lo; t <= i; t++) {
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            dot += (double) qs.get(i)[h * d + e] * ks.get(t)[g * d + e];
                        }
                        s[t - lo] = dot / Math.sqrt(d);
                        max = Math.max(max, s[t - lo]);
                    }
                    double sum = 0;
                    for (int t = 0; t < s.length; t++) {
                        s[t] = Math.exp(s[t] - max);
                        sum += s[t];
                    }
                    for (int e = 0; e < d; e++) {
                        double o = 0;
                        for (int t = lo; t <= i; t++) {
                            o += s[t - lo] / sum * vs.get(t)[g * d + e];
                        }
                        att[h * d + e] = (float) o;
                    }
                }
                float[] o = matvec(w.wo(), att);
                for (int j = 0; j < hidden; j++) {
                    x[i][j] += o[j];
                }
                float[] h2 = norm(x[i], w.ffnNorm(), c.rmsNormEps());
                float[] gate = matvec(w.wGate(), h2);
                float[] up = matvec(w.wUp(), h2);
                for (int j = 0; j < gate.length; j++) {
                    gate[j] = (float) (gate[j] / (1 + Math.exp(-gate[j])) * up[j]);
                }
                float[] down = matvec(w.wDown(), gate);
                for (int j = 0; j < hidden; j++) {
                    x[i][j] += down[j];
                }
            }
        }
        return matvec(model.weights().lmHead(), norm(x[n - 1], model.weights().finalNorm(), c.rmsNormEps()));
    }

    private static float[] matvec(Tensor w, float[] x) {
        int rows = w.dim(0);
        int cols = w.dim(1);
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < cols; j++) {
                s += (double) w.get((long) r * cols + j) * x[j];
            }
            out[r] = (float) s;
        }
        return out;
    }

    private static float[] add(float[] x, Tensor bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias.get(i);
            }
        }
        return x;
    }

    private static float[] norm(float[] x, Tensor w, float eps) {
        double ss = 0;
        for (float v : x) {
            ss += (double) v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (x[i] * inv * w.get(i));
        }
        return out;
    }

    private static float[] perHeadNorm(float[] x, Tensor w, int d, float eps) {
        float[] out = new float[x.length];
        for (int h = 0; h < x.length / d; h++) {
            float[] head = new float[d];
            System.arraycopy(x, h * d, head, 0, d);
            System.arraycopy(norm(head, w, eps), 0, out, h * d, d);
        }
        return out;
    }

    private static float[] rope(float[] x, int pos, float[] inv, int d) {
        float[] out = x.clone();
        int half = d / 2;
        for (int h = 0; h < x.length / d; h++) {
            for (int i = 0; i < half; i++) {
                double angle = inv[i] * (float) pos;
                double a = x[h * d + i];
                double b = x[h * d + half + i];
                out[h * d + i] = (float) (a * Math.cos(angle) - b * Math.sin(angle));
                out[h * d + half + i] = (float) (b * Math.cos(angle) + a * Math.sin(angle));
            }
        }
        return out;
    }
}
