package dev.tokenselect.engine.eval;

import java.util.List;

/** Exact match: a generated answer is correct when it contains every expected string verbatim. */
public final class Scorer {

    private Scorer() {
    }

    public static boolean correct(String generated, List<String> expected) {
        if (expected.isEmpty()) {
            throw new IllegalArgumentException("nothing to match");
        }
        for (String e : expected) {
            if (!generated.contains(e)) {
                return false;
            }
        }
        return true;
    }
}
