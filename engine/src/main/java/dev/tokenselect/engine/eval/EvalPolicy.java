package dev.tokenselect.engine.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/**
 * An attention policy under evaluation, by name:
 * <ul>
 * <li>{@code full}: ordinary attention over every cached token, at true positions;</li>
 * <li>{@code ts-K}: TokenSelect with {@code k = K} and the selection cache at {@code theta};</li>
 * <li>{@code ts-K-nocache}: the same with the cache disabled ({@code theta = 2});</li>
 * <li>{@code ts-K-orig}, {@code ts-K-orig-nocache}: the same at original positions instead of compacted
 * ones (DESIGN.md's extension; CPU backend);</li>
 * <li>{@code ts-K-poolN} (with {@code -orig} before and {@code -nocache} after it, as wanted): the vote
 * max-pooled over N neighbouring candidates before the top-k (the official code's KERNEL_SIZE);</li>
 * <li>{@code ts-K-int8} (after {@code -poolN}, before {@code -nocache}): the candidates scored against int8
 * sketches of their keys ({@link dev.tokenselect.engine.select.KeySketch});</li>
 * <li>{@code ts-K-needles} (after {@code -int8}, before {@code -nocache}): a diagnostic, not a policy to
 * ship: every selection also attends each needle sentence's tokens, the accuracy TokenSelect would have
 * if its scoring never missed a needle (needle tasks; selections on the host only);</li>
 * <li>{@code streaming-K}: attention sinks plus a recent window of the same budget as {@code ts-K}
 *     ({@code nInit} sinks, a window of {@code K + nLocal});</li>
 * <li>{@code page-K}: page-level selection (Quest/InfLLM style) of {@code K} tokens in whole pages.</li>
 * </ul>
 */
public record EvalPolicy(String name, AttentionSpec spec, boolean keepsNeedles) {

    public EvalPolicy(String name, AttentionSpec spec) {
        this(name, spec, false);
    }

    public static final String DEFAULTS = "full,ts-512,ts-2048,ts-2048-nocache,streaming-2048,page-2048";

    public boolean isTokenSelect() {
        return spec.kind() == AttentionSpec.Kind.TOKENSELECT;
    }

    /** The prefill chunk the generator should use with this policy. */
    public int prefillChunk(int fullChunk) {
        return spec.params() == null ? fullChunk : spec.params().prefillChunk();
    }

    /** Tokens attended at most per step, or -1 for all of them. */
    public int budget() {
        return spec.params() == null ? -1 : spec.params().budget();
    }

    public static List<EvalPolicy> parseList(String names, int nInit, int nLocal, double theta, int prefillChunk,
                                             int pageSize) {
        List<EvalPolicy> out = new ArrayList<>();
        for (String n : names.split(",")) {
            if (!n.isBlank()) {
                EvalPolicy p = parse(n.trim(), nInit, nLocal, theta, prefillChunk, pageSize);
                if (out.stream().anyMatch(o -> o.name.equals(p.name))) {
                    throw new IllegalArgumentException("policy '" + p.name + "' is listed twice");
                }
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no policies given");
        }
        return out;
    }

    public static EvalPolicy parse(String name, int nInit, int nLocal, double theta, int prefillChunk, int pageSize) {
        String n = name.toLowerCase(Locale.ROOT);
        int chunk = Math.min(prefillChunk, nLocal);
        if (n.equals("full")) {
            return new EvalPolicy(n, AttentionSpec.full());
        }
        String[] parts = n.split("-");
        try {
            switch (parts[0]) {
                case "ts", "tokenselect" -> {
                    int k = Integer.parseInt(parts[1]);
                    java.util.List<String> flags = java.util.Arrays.asList(parts).subList(2, parts.length);
                    boolean original = flags.contains("orig");
                    boolean noCache = flags.contains("nocache");
                    String poolFlag = flags.stream().filter(f -> f.matches("pool\\d+")).findFirst().orElse(null);
                    int pool = poolFlag == null ? 0 : Integer.parseInt(poolFlag.substring(4));
                    boolean int8 = flags.contains("int8");
                    boolean needles = flags.contains("needles");
                    String canonical = (original ? "-orig" : "") + (poolFlag == null ? "" : "-" + poolFlag)
                            + (int8 ? "-int8" : "") + (needles ? "-needles" : "") + (noCache ? "-nocache" : "");
                    if (!canonical.equals(flags.isEmpty() ? "" : "-" + String.join("-", flags))) {
                        break;  // unknown, repeated or out-of-order flags
                    }
                    return new EvalPolicy("ts-" + k + canonical, AttentionSpec.tokenSelect(new SelectionParams(k,
                            nInit, nLocal, noCache ? 2.0 : theta, chunk, original, pool, int8)), needles);
                }
                case "streaming" -> {
                    int k = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
                    if (parts.length > 2) {
                        break;
                    }
                    return new EvalPolicy("streaming-" + k, new AttentionSpec(AttentionSpec.Kind.STREAMING,
                            new SelectionParams(0, nInit, nLocal + k, 2.0, chunk), pageSize));
                }
                case "page" -> {
                    int k = Integer.parseInt(parts[1]);
                    if (parts.length > 2) {
                        break;
                    }
                    return new EvalPolicy("page-" + k, new AttentionSpec(AttentionSpec.Kind.PAGE,
                            new SelectionParams(k, nInit, nLocal, 2.0, chunk), pageSize));
                }
                default -> {
                }
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("unknown policy '" + name
                + "': use full, ts-K[-orig][-poolN][-int8][-needles][-nocache], streaming-K or page-K (K selected tokens, e.g."
                + " ts-2048; -orig: original positions instead of compacted; -poolN: the vote max-pooled over N"
                + " candidates; -int8: candidates scored against int8 sketches of their keys; -needles: every selection"
                + " also attends the needles' sentences, a diagnostic)");
    }
}
