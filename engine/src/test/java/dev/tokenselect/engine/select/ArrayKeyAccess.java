package dev.tokenselect.engine.select;

/** Keys held in plain arrays, {@code keys[layer][kvHead][token][d]}, for policy tests. */
final class ArrayKeyAccess implements KeyAccess {

    final float[][][][] keys;
    final Geometry geo;

    ArrayKeyAccess(Geometry geo, int layers, int tokens, java.util.Random random) {
        this.geo = geo;
        this.keys = new float[layers][geo.numKvHeads()][tokens][geo.headDim()];
        for (float[][][] l : keys) {
            for (float[][] g : l) {
                for (float[] k : g) {
                    for (int j = 0; j < k.length; j++) {
                        k[j] = (float) random.nextGaussian();
                    }
                }
            }
        }
    }

    @Override
    public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
        for (int h = 0; h < geo.numHeads(); h++) {
            float[][] g = keys[layer][geo.kvHeadOf(h)];
            for (int t = from; t < to; t++) {
                float s = 0;
                for (int j = 0; j < geo.headDim(); j++) {
                    s += qbar[h][j] * g[t][j];
                }
                out[h][t - from] = s;
            }
        }
    }

    @Override
    public void key(int layer, int kvHead, int token, float[] out, int off) {
        System.arraycopy(keys[layer][kvHead][token], 0, out, off, geo.headDim());
    }
}
