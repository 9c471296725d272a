package dev.tokenselect.engine.select;

/**
 * Max-pooling of the head soft vote along the candidates (the official code's {@code KERNEL_SIZE}):
 * candidate t gets the largest vote within {@code width / 2} candidates of it, so a strongly voted
 * token brings its neighbours into the top-k.
 */
public final class VotePool {

    private VotePool() {
    }

    /** A new array: {@code out[t] = max(vote[max(0, t - r) .. min(count - 1, t + r)])}, r = width / 2. */
    public static float[] maxPool(float[] vote, int count, int width) {
        int r = width / 2;
        float[] out = new float[vote.length];
        // a monotone deque of indices: the window's maximum in O(count)
        int[] dq = new int[count];
        int head = 0;
        int tail = 0;
        int next = 0;
        for (int t = 0; t < count; t++) {
            int hi = Math.min(count - 1, t + r);
            while (next <= hi) {
                while (tail > head && vote[dq[tail - 1]] <= vote[next]) {
                    tail--;
                }
                dq[tail++] = next++;
            }
            while (dq[head] < t - r) {
                head++;
            }
            out[t] = vote[dq[head]];
        }
        return out;
    }
}
