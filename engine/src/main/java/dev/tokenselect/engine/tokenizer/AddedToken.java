package dev.tokenselect.engine.tokenizer;

/**
 * A token from the {@code added_tokens} section of tokenizer.json. Added tokens are matched in the raw text
 * before any pre-tokenization, so e.g. {@code <|im_start|>} is never split by BPE.
 *
 * @param id         the token id
 * @param content    the literal text that is matched
 * @param special    special tokens are dropped by {@code decode(ids, skipSpecialTokens=true)}
 * @param lstrip     the match swallows whitespace on its left
 * @param rstrip     the match swallows whitespace on its right
 * @param normalized matched against the normalized text instead of the raw text
 * @param singleWord only matched when not inside a word
 */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
                         boolean normalized, boolean singleWord) {
}
