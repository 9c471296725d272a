package dev.tokenselect.engine.generate;

/**
 * @param ids  the generated ids, including an end-of-sequence id when that ended the generation
 * @param text the generated text, without special tokens and without the stop string
 */
public record GenerationResult(int[] ids, String text, FinishReason finishReason, GenerationStats stats) {
}
