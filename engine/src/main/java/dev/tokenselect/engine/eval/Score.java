package dev.tokenselect.engine.eval;

import java.util.Locale;

/**
 * How the report scores answers: by exact match (1 when an answer holds every expected string, else 0) or
 * by RULER's score ({@link Scorer#rulerScore}: the share of the expected strings it holds).
 */
public enum Score {
    EXACT("exact", "Accuracy", "accuracy (exact match)"),
    RULER("ruler", "RULER's score", "RULER's score (string_match_all)");

    private final String label;
    private final String title;
    private final String axis;

    Score(String label, String title, String axis) {
        this.label = label;
        this.title = title;
        this.axis = axis;
    }

    /** What a plot's title calls it. */
    public String title() {
        return title;
    }

    /** What a plot's y axis calls it. */
    public String axis() {
        return axis;
    }

    /** One answer's score, in [0, 1]. */
    public double of(EvalHarness.Outcome o) {
        return this == EXACT ? (o.correct() ? 1 : 0) : o.rulerScore();
    }

    /** A cell's mean score, NaN for an empty cell. */
    public double of(EvalReport.Cell c) {
        return this == EXACT ? c.accuracy() : c.rulerScore();
    }

    /** The score {@code label} names ({@code exact} or {@code ruler}, case ignored); anything else is refused. */
    public static Score parse(String label) {
        String l = label.trim().toLowerCase(Locale.ROOT);
        for (Score s : values()) {
            if (s.label.equals(l)) {
                return s;
            }
        }
        throw new IllegalArgumentException("--plot-score " + label + ": use exact (the share of answers holding every"
                + " expected string) or ruler (RULER's string_match_all)");
    }
}
