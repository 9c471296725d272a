package dev.tokenselect.engine.eval;

import java.util.List;
import java.util.Locale;

/**
 * How an answer is scored. Exact match ({@link #correct}): correct when it contains every expected string
 * verbatim. RULER's own score ({@link #rulerScore}, its {@code string_match_all}, which RULER applies to
 * the needle, variable-tracking and common-words tasks): the share of the expected strings the answer
 * contains, ignoring case, so an answer with three of four codes scores 0.75 rather than 0.
 */
public final class Scorer {

    private Scorer() {
    }

    public static boolean correct(String generated, List<String> expected) {
        requireExpected(expected);
        for (String e : expected) {
            if (!generated.contains(e)) {
                return false;
            }
        }
        return true;
    }

    /** RULER's {@code string_match_all} of one answer: expected strings found (case ignored) over all expected. */
    public static double rulerScore(String generated, List<String> expected) {
        requireExpected(expected);
        String answer = generated.toLowerCase(Locale.ROOT);
        int found = 0;
        for (String e : expected) {
            if (answer.contains(e.toLowerCase(Locale.ROOT))) {
                found++;
            }
        }
        return (double) found / expected.size();
    }

    private static void requireExpected(List<String> expected) {
        if (expected.isEmpty()) {
            throw new IllegalArgumentException("nothing to match");
        }
    }
}
