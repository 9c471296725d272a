package dev.tokenselect.engine.select;

/** The attention geometry a policy needs: heads, KV heads and head size. */
public record Geometry(int numHeads, int numKvHeads, int headDim) {

    public Geometry {
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException(numHeads + " heads do not group evenly over " + numKvHeads + " KV heads");
        }
    }

    /** The KV head that query head {@code h} reads: consecutive query heads share one (GQA). */
    public int kvHeadOf(int h) {
        return h / (numHeads / numKvHeads);
    }

    public int queryDim() {
        return numHeads * headDim;
    }
}
