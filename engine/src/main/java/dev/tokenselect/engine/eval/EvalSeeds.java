package dev.tokenselect.engine.eval;

/**
 * Seed namespaces shared with {@code tools/train/tasks.py}: training samples use seeds below
 * {@code 2^60}, the training log's held-out set {@code [2^60, 2^61)}, and this evaluation seeds at or
 * above {@code 2^62}, so no evaluation sample is generated from a seed training used. (The generators
 * also differ, Python's Mersenne Twister there, {@link java.util.SplittableRandom} here.)
 */
public final class EvalSeeds {

    public static final long TRAIN_SEED_LIMIT = 1L << 60;
    public static final long EVAL_SEED_BASE = 1L << 62;
    static final int MAX_SAMPLES = 1 << 20;

    private EvalSeeds() {
    }

    /**
     * The seed of sample {@code index} of a task under the user's seed; the same at every context
     * length, so that lengths differ only in the haystack around the same needles.
     */
    public static long sampleSeed(long userSeed, int taskIndex, int index) {
        if (index < 0 || index >= MAX_SAMPLES || taskIndex < 0 || taskIndex >= 256) {
            throw new IllegalArgumentException("sample " + index + " of task " + taskIndex + " is out of range");
        }
        long user = Math.floorMod(userSeed, 1L << 30);
        return EVAL_SEED_BASE | (user << 28) | ((long) taskIndex << 20) | index;
    }

    public static boolean isTrainingSeed(long seed) {
        return seed >= 0 && seed < TRAIN_SEED_LIMIT;
    }

    public static boolean isEvalSeed(long seed) {
        return seed >= EVAL_SEED_BASE;
    }
}
