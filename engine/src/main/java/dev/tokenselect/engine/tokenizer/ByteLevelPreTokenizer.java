package dev.tokenselect.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** The ByteLevel pre-tokenizer: optional GPT-2 split, then every byte becomes its byte-level char. */
final class ByteLevelPreTokenizer implements PreTokenizer {

    /** GPT-2's pattern, used only when {@code use_regex} is true (Qwen and Llama 3 split beforehand instead). */
    private static final Pattern GPT2_SPLIT = OnigurumaRegex.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "GPT-2 pattern");

    private final boolean addPrefixSpace;
    private final RegexSplitter splitter;

    ByteLevelPreTokenizer(boolean addPrefixSpace, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.splitter = useRegex ? new RegexSplitter(GPT2_SPLIT, RegexSplitter.Behavior.ISOLATED, false) : null;
    }

    @Override
    public List<String> apply(List<String> pieces) {
        List<String> split = pieces;
        if (addPrefixSpace || splitter != null) {
            split = new ArrayList<>(pieces.size());
            for (String piece : pieces) {
                // tokenizers prepends to every piece that exists at this point, not only the first.
                String p = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
                if (splitter != null) splitter.split(p, split);
                else split.add(p);
            }
        }
        List<String> out = new ArrayList<>(split.size());
        for (String piece : split) out.add(ByteLevel.encode(piece));
        return out;
    }
}
