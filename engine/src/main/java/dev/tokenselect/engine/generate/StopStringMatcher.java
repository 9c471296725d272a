package dev.tokenselect.engine.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text. Text that could still become the start of a stop string is
 * held back, so a listener never sees part of a stop string; what is released is final.
 */
final class StopStringMatcher {

    private final List<String> stops;
    private final int longest;
    private final StringBuilder text = new StringBuilder();
    private int released;
    private int stopAt = -1;

    StopStringMatcher(List<String> stops) {
        this.stops = stops;
        this.longest = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** Appends generated text; returns the newly releasable part (possibly empty). */
    String push(String delta) {
        if (stopped()) {
            return "";
        }
        text.append(delta);
        if (stops.isEmpty()) {
            return release(text.length());
        }
        int from = Math.max(0, released - longest + 1);
        int earliest = -1;
        for (String stop : stops) {
            int i = text.indexOf(stop, from);
            if (i >= 0 && (earliest < 0 || i < earliest)) {
                earliest = i;
            }
        }
        if (earliest >= 0) {
            stopAt = earliest;
            return release(earliest);
        }
        return release(text.length() - heldBack());
    }

    /** Releases whatever is held back once no more text will come. */
    String flush() {
        return stopped() ? "" : release(text.length());
    }

    boolean stopped() {
        return stopAt >= 0;
    }

    /** The whole output: everything before the stop string, or all text. */
    String text() {
        return stopped() ? text.substring(0, stopAt) : text.toString();
    }

    /** Length of the longest suffix that is a proper prefix of some stop string. */
    private int heldBack() {
        int max = Math.min(longest - 1, text.length() - released);
        for (int k = max; k > 0; k--) {
            for (String stop : stops) {
                if (k < stop.length() && stop.startsWith(text.substring(text.length() - k))) {
                    return k;
                }
            }
        }
        return 0;
    }

    private String release(int upTo) {
        if (upTo <= released) {
            return "";
        }
        String out = text.substring(released, upTo);
        released = upTo;
        return out;
    }
}
