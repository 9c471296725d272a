package dev.tokenselect.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** The Split pre-tokenizer: cuts each piece at regex matches, keeping the delimiters as the behavior says. */
final class RegexSplitter implements PreTokenizer {

    enum Behavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    private final Pattern pattern;
    private final Behavior behavior;
    private final boolean invert;

    RegexSplitter(Pattern pattern, Behavior behavior, boolean invert) {
        this.pattern = pattern;
        this.behavior = behavior;
        this.invert = invert;
    }

    static RegexSplitter fromJson(JsonNode node, String source) {
        JsonNode patternNode = JsonSupport.requiredObject(node, "pattern", source, "Split pre_tokenizer");
        Pattern pattern;
        if (patternNode.has("Regex")) {
            pattern = OnigurumaRegex.compile(JsonSupport.requiredString(patternNode, "Regex", source, "Split pattern"), source);
        } else if (patternNode.has("String")) {
            pattern = Pattern.compile(Pattern.quote(JsonSupport.requiredString(patternNode, "String", source, "Split pattern")));
        } else {
            throw new TokenizerFormatException(source, "Split pre_tokenizer: pattern must have 'Regex' or 'String'");
        }
        String behaviorName = JsonSupport.requiredString(node, "behavior", source, "Split pre_tokenizer");
        Behavior behavior = switch (behaviorName) {
            case "Removed" -> Behavior.REMOVED;
            case "Isolated" -> Behavior.ISOLATED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> Behavior.CONTIGUOUS;
            default -> throw new TokenizerFormatException(source, "unsupported Split behavior '" + behaviorName + "'");
        };
        boolean invert = JsonSupport.optionalBoolean(node, "invert", false, source, "Split pre_tokenizer");
        return new RegexSplitter(pattern, behavior, invert);
    }

    @Override
    public List<String> apply(List<String> pieces) {
        List<String> out = new ArrayList<>(pieces.size() * 4);
        for (String piece : pieces) split(piece, out);
        return out;
    }

    void split(String text, List<String> out) {
        if (text.isEmpty()) return;
        IntList ranges = findMatches(text); // triples: start, end, isMatch
        int count = ranges.size() / 3;
        switch (behavior) {
            case ISOLATED -> {
                for (int k = 0; k < count; k++) emit(text, ranges.get(3 * k), ranges.get(3 * k + 1), out);
            }
            case REMOVED -> {
                for (int k = 0; k < count; k++) {
                    if (ranges.get(3 * k + 2) == 0) emit(text, ranges.get(3 * k), ranges.get(3 * k + 1), out);
                }
            }
            default -> mergeAndEmit(text, ranges, count, out);
        }
    }

    /** Contiguous / MergedWith*: the same folds as tokenizers' NormalizedString::split. */
    private void mergeAndEmit(String text, IntList ranges, int count, List<String> out) {
        IntList merged = new IntList(count * 2);
        boolean previousMatch = false;
        if (behavior == Behavior.MERGED_WITH_NEXT) {
            for (int k = count - 1; k >= 0; k--) {
                int start = ranges.get(3 * k);
                int end = ranges.get(3 * k + 1);
                boolean isMatch = ranges.get(3 * k + 2) != 0;
                if (isMatch && !previousMatch && merged.size() > 0) {
                    merged.set(merged.size() - 2, start);
                } else {
                    merged.add(start);
                    merged.add(end);
                }
                previousMatch = isMatch;
            }
            for (int k = merged.size() / 2 - 1; k >= 0; k--) emit(text, merged.get(2 * k), merged.get(2 * k + 1), out);
            return;
        }
        for (int k = 0; k < count; k++) {
            int start = ranges.get(3 * k);
            int end = ranges.get(3 * k + 1);
            boolean isMatch = ranges.get(3 * k + 2) != 0;
            boolean extend = behavior == Behavior.CONTIGUOUS ? isMatch == previousMatch : isMatch && !previousMatch;
            if (extend && merged.size() > 0) {
                merged.set(merged.size() - 1, end);
            } else {
                merged.add(start);
                merged.add(end);
            }
            previousMatch = isMatch;
        }
        for (int k = 0; k < merged.size() / 2; k++) emit(text, merged.get(2 * k), merged.get(2 * k + 1), out);
    }

    private static void emit(String text, int start, int end, List<String> out) {
        if (end > start) out.add(text.substring(start, end));
    }

    /**
     * Covers the whole text with (start, end, isMatch) ranges. Follows Oniguruma's find_iter: an empty match
     * directly at the end of the previous match is skipped and the search moves on by one code point.
     */
    private IntList findMatches(String text) {
        IntList ranges = new IntList(64);
        Matcher m = pattern.matcher(text);
        int len = text.length();
        int prev = 0;
        int lastMatchEnd = -1;
        int pos = 0;
        int matchFlag = invert ? 0 : 1;
        int gapFlag = invert ? 1 : 0;
        while (pos <= len && m.find(pos)) {
            int s = m.start();
            int e = m.end();
            if (s == e && e == lastMatchEnd) {
                if (e >= len) break;
                pos = e + Character.charCount(text.codePointAt(e));
                continue;
            }
            if (prev != s) {
                ranges.add(prev);
                ranges.add(s);
                ranges.add(gapFlag);
            }
            ranges.add(s);
            ranges.add(e);
            ranges.add(matchFlag);
            prev = e;
            lastMatchEnd = e;
            pos = e;
        }
        if (prev != len) {
            ranges.add(prev);
            ranges.add(len);
            ranges.add(gapFlag);
        }
        return ranges;
    }
}
