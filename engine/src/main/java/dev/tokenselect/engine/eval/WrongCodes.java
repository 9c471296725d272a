package dev.tokenselect.engine.eval;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the misses of a needle task go wrong: each 6-digit code in a wrong answer that is not an expected
 * one is either another needle's code from the same haystack (the model took the wrong key: a
 * distractor won) or a code in no needle (a needle half read, or invented).
 *
 * @param otherNeedle wrong codes that are another needle's
 * @param all every wrong code
 */
public record WrongCodes(int otherNeedle, int all) {

    public static final WrongCodes NONE = new WrongCodes(0, 0);

    private static final Pattern CODE = Pattern.compile("(?<!\\d)\\d{6}(?!\\d)");

    /** The wrong codes of one answer; none for a correct answer or a task without codes. */
    public static WrongCodes of(EvalHarness.Outcome o) {
        if (o.correct()) {
            return NONE;
        }
        List<String> needles = EvalTasks.needleCodes(o.task(), o.seed());
        if (needles.isEmpty()) {
            return NONE;
        }
        int other = 0;
        int all = 0;
        for (String code : codesIn(o.generated())) {
            if (o.expected().contains(code)) {
                continue;
            }
            all++;
            if (needles.contains(code)) {
                other++;
            }
        }
        return new WrongCodes(other, all);
    }

    /** The 6-digit codes in a text, in order. */
    public static List<String> codesIn(String text) {
        List<String> codes = new java.util.ArrayList<>();
        Matcher m = CODE.matcher(text);
        while (m.find()) {
            codes.add(m.group());
        }
        return codes;
    }

    public WrongCodes plus(WrongCodes w) {
        return new WrongCodes(otherNeedle + w.otherNeedle, all + w.all);
    }
}
