package dev.tokenselect.engine.eval;

import java.util.List;

/**
 * One task instance.
 *
 * @param user     the user message: instruction, haystack with the needles, question
 * @param answer   the reference answer, as the training script renders the assistant message
 * @param expected the strings a generated answer must all contain to count as correct
 */
public record EvalSample(String task, long seed, String user, String answer, List<String> expected) {

    public EvalSample {
        expected = List.copyOf(expected);
    }
}
