package dev.tokenselect.engine.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.select.SelectionTrace;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * How much of the asked codes a TokenSelect answer could see: for every selection that produced an
 * answer token (the prompt's last chunk, whose logits give the first token, and each decode step),
 * per layer, the share of the asked codes' prompt tokens among the attended ones. Tells a miss that
 * the selection caused (a code's tokens left out) from one the model made while seeing them all.
 */
public final class NeedleRecall implements SelectionTrace {

    /** Outcome statistics this writes. */
    public static final String MEAN = "needle_recall";
    public static final String COMPLETE = "needle_complete";
    public static final String SELECTIONS = "needle_traced_selections";
    public static final String BY_LAYER = "needle_recall_by_layer";
    public static final String BY_CODE = "needle_recall_by_code";

    private final List<String> codes;
    private final int[][] spans;
    private final int[] asked;
    private final int askedTokens;
    private final int promptLength;
    private final int[] keptNow;
    private final double[] codeSum;
    private long selections;
    private long decodeSelections;
    private long complete;
    private double recallSum;
    private double[] layerSum = new double[0];
    private long[] layerCount = new long[0];

    /**
     * @param codes        every needle's code in the haystack (the asked ones and the others)
     * @param spans        each code's prompt tokens as {@code [start, end)} ({@link #spans})
     * @param asked        the codes the question asks for, among {@code codes}
     * @param promptLength the prompt's tokens; selections of earlier chunks are not counted
     */
    public NeedleRecall(List<String> codes, int[][] spans, List<String> asked, int promptLength) {
        if (codes.size() != spans.length) {
            throw new IllegalArgumentException(codes.size() + " codes, " + spans.length + " spans");
        }
        this.codes = List.copyOf(codes);
        this.spans = spans;
        this.asked = new int[asked.size()];
        int tokens = 0;
        for (int i = 0; i < this.asked.length; i++) {
            int c = this.codes.indexOf(asked.get(i));
            if (c < 0) {
                throw new IllegalArgumentException("the asked code " + asked.get(i) + " is not among the needles' " + codes);
            }
            this.asked[i] = c;
            tokens += spans[c][1] - spans[c][0];
        }
        this.askedTokens = tokens;
        this.promptLength = promptLength;
        this.keptNow = new int[spans.length];
        this.codeSum = new double[spans.length];
    }

    @Override
    public void selected(int layer, boolean decoding, int cachedLength, int[] selected) {
        if (cachedLength < promptLength || askedTokens == 0) {
            return;
        }
        for (int c = 0; c < spans.length; c++) {
            int[] span = spans[c];
            keptNow[c] = selected == null ? span[1] - span[0] : keptIn(selected, span[0], span[1]);
            codeSum[c] += (double) keptNow[c] / (span[1] - span[0]);
        }
        int kept = 0;
        for (int c : asked) {
            kept += keptNow[c];
        }
        double share = (double) kept / askedTokens;
        selections++;
        decodeSelections += decoding ? 1 : 0;
        complete += kept == askedTokens ? 1 : 0;
        recallSum += share;
        if (layer >= layerSum.length) {
            layerSum = Arrays.copyOf(layerSum, layer + 1);
            layerCount = Arrays.copyOf(layerCount, layer + 1);
        }
        layerSum[layer] += share;
        layerCount[layer]++;
    }

    /** How many of {@code [from, to)} the ascending {@code selected} holds. */
    static int keptIn(int[] selected, int from, int to) {
        int i = Arrays.binarySearch(selected, from);
        if (i < 0) {
            i = -i - 1;
        }
        int kept = 0;
        while (i < selected.length && selected[i] < to) {
            kept++;
            i++;
        }
        return kept;
    }

    public long decodeSelections() {
        return decodeSelections;
    }

    /**
     * The mean share of the asked codes' tokens attended, the share of selections that held them all, the
     * mean share per layer (a model reads a needle in a few layers; their selections matter most) and
     * the mean share of each code apart (does a wrong answer that names another needle's code have that
     * code in view more than the asked one?).
     */
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (selections > 0) {
            m.put(MEAN, round(recallSum / selections));
            m.put(COMPLETE, round((double) complete / selections));
            m.put(SELECTIONS, selections);
            List<Double> byLayer = new ArrayList<>();
            for (int l = 0; l < layerSum.length; l++) {
                byLayer.add(layerCount[l] == 0 ? null : round(layerSum[l] / layerCount[l]));
            }
            m.put(BY_LAYER, byLayer);
            Map<String, Object> byCode = new LinkedHashMap<>();
            for (int c = 0; c < codes.size(); c++) {
                byCode.put(codes.get(c), round(codeSum[c] / selections));
            }
            m.put(BY_CODE, byCode);
        }
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /**
     * The prompt tokens of each of {@code codes} in {@code text}, whose tokens are {@code ids}: the tokens
     * of the text before the code and through it, widened by a token each side where a merge across the
     * code's edge hides a digit (checked by decoding the span).
     *
     * @throws IllegalArgumentException when a code is not in the text or its tokens cannot be found
     */
    public static int[][] spans(Tokenizer tokenizer, boolean addSpecialTokens, String text, int[] ids, List<String> codes) {
        List<int[]> out = new ArrayList<>();
        for (String code : codes) {
            int at = text.indexOf(code);
            if (at < 0) {
                throw new IllegalArgumentException("the code " + code + " is not in the prompt");
            }
            int start = tokenizer.encode(text.substring(0, at), addSpecialTokens).length;
            int end = tokenizer.encode(text.substring(0, at + code.length()), addSpecialTokens).length;
            for (int widen = 0; ; widen++) {
                int s = Math.max(0, start - widen);
                int e = Math.min(ids.length, end + widen);
                if (tokenizer.decode(Arrays.copyOfRange(ids, s, e), false).contains(code)) {
                    out.add(new int[] {s, e});
                    break;
                }
                if (widen == 2) {
                    throw new IllegalArgumentException("the tokens of the code " + code + " are not near tokens "
                            + start + "-" + end + " of the prompt");
                }
            }
        }
        return out.toArray(int[][]::new);
    }
}
