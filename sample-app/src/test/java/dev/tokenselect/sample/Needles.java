package dev.tokenselect.sample;

/**
 * Documents in the form the needle-14m model was trained on (tools/train, niah_single_noise): filler sentences with one
 * "special code" hidden in the middle, asked for by its key word. With the corpus in the user turn it answers these
 * (CorpusUserTurnTest in the engine measures how reliably).
 */
public final class Needles {

    public static final String KEY = "falcon";
    public static final String CODE = "318274";
    public static final String QUESTION = "What is the special code for " + KEY + "?";

    private static final String[] NOISE = {"The grass is green.", "The sky is blue.", "The sun is yellow.",
            "Here we go.", "There and back again."};

    private Needles() {
    }

    /** About 1,500 tokens with the needle in the middle. */
    public static String notes(String key, String code) {
        return notes(key, code, 300);
    }

    public static String notes(String key, String code, int sentences) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            sb.append(NOISE[i % NOISE.length]).append(' ');
            if (i == sentences / 2) {
                sb.append("The special code for ").append(key).append(" is ").append(code).append(". ");
            }
        }
        return sb.toString().strip();
    }
}
