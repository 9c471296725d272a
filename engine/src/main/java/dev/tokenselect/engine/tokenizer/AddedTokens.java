package dev.tokenselect.engine.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds added tokens in text the way tokenizers' AddedVocabulary does: leftmost-longest literal matches, with
 * the {@code single_word}, {@code lstrip} and {@code rstrip} rules applied to each match.
 */
final class AddedTokens {

    /** One piece of split text: either an added token ({@code tokenId >= 0}) or plain text to tokenize further. */
    record Segment(String text, int tokenId) {
        boolean isToken() {
            return tokenId >= 0;
        }
    }

    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    private final TrieNode rawTrie = new TrieNode();
    private final TrieNode normalizedTrie = new TrieNode();
    private final boolean hasRaw;
    private final boolean hasNormalized;

    /**
     * @param tokens            the added tokens
     * @param normalizedContent for each token with {@code normalized=true}, the text to match (its content after
     *                          the normalizer), by id
     */
    AddedTokens(List<AddedToken> tokens, Map<Integer, String> normalizedContent) {
        boolean raw = false;
        boolean norm = false;
        for (AddedToken token : tokens) {
            if (token.normalized()) {
                normalizedTrie.insert(normalizedContent.getOrDefault(token.id(), token.content()), token);
                norm = true;
            } else {
                rawTrie.insert(token.content(), token);
                raw = true;
            }
        }
        hasRaw = raw;
        hasNormalized = norm;
    }

    /** Splits raw (not yet normalized) text at the added tokens that match un-normalized text. */
    void splitRaw(String text, boolean splitSpecialTokens, List<Segment> out) {
        split(text, hasRaw ? rawTrie : null, splitSpecialTokens, out);
    }

    /** Splits normalized text at the added tokens that match normalized text. */
    void splitNormalized(String text, boolean splitSpecialTokens, List<Segment> out) {
        split(text, hasNormalized ? normalizedTrie : null, splitSpecialTokens, out);
    }

    private static void split(String sentence, TrieNode trie, boolean splitSpecialTokens, List<Segment> out) {
        if (sentence.isEmpty()) return;
        if (trie == null) {
            out.add(new Segment(sentence, -1));
            return;
        }
        int len = sentence.length();
        int startOffset = 0;
        int searchFrom = 0;
        while (searchFrom < len) {
            // Leftmost-longest: the first position with any match, the longest match there.
            int start = -1;
            int stop = -1;
            AddedToken token = null;
            for (int i = searchFrom; i < len && token == null; i++) {
                TrieNode node = trie.children.get(sentence.charAt(i));
                for (int j = i + 1; node != null; j++) {
                    if (node.token != null) {
                        start = i;
                        stop = j;
                        token = node.token;
                    }
                    if (j >= len) break;
                    node = node.children.get(sentence.charAt(j));
                }
            }
            if (token == null) break;
            searchFrom = stop; // matches never overlap, even when the match is then discarded below

            if (splitSpecialTokens && token.special()) continue;
            if (token.singleWord()) {
                boolean startSpace = start == 0 || !isWordChar(sentence.codePointBefore(start));
                boolean stopSpace = stop == len || !isWordChar(sentence.codePointAt(stop));
                if (!startSpace || !stopSpace) continue;
            }
            if (token.lstrip()) {
                int newStart = start;
                while (newStart > 0 && Whitespace.isWhitespace(sentence.codePointBefore(newStart))) {
                    newStart -= Character.charCount(sentence.codePointBefore(newStart));
                }
                start = Math.max(newStart, startOffset); // do not eat into the previous token's rstrip
            }
            if (token.rstrip()) {
                while (stop < len && Whitespace.isWhitespace(sentence.codePointAt(stop))) {
                    stop += Character.charCount(sentence.codePointAt(stop));
                }
            }
            if (startOffset < start) out.add(new Segment(sentence.substring(startOffset, start), -1));
            out.add(new Segment(sentence.substring(Math.min(start, stop), stop), token.id()));
            startOffset = stop;
        }
        if (startOffset != len) out.add(new Segment(sentence.substring(startOffset), -1));
    }

    private static boolean isWordChar(int codePoint) {
        return WORD_CHAR.matcher(Character.toString(codePoint)).matches();
    }

    private static final class TrieNode {
        final Map<Character, TrieNode> children = new HashMap<>();
        AddedToken token;

        void insert(String content, AddedToken value) {
            TrieNode node = this;
            for (int i = 0; i < content.length(); i++) {
                node = node.children.computeIfAbsent(content.charAt(i), c -> new TrieNode());
            }
            node.token = value; // a later token with the same content wins, as in tokenizers' map
        }
    }
}
