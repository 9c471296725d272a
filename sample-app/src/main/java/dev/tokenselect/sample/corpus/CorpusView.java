package dev.tokenselect.sample.corpus;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.tokenselect.sample.corpus.CorpusRepository.DocumentSummary;

/**
 * A corpus as the corpora page and {@code GET /api/corpora} show it.
 *
 * @param status         {@code queued}, {@code preparing}, {@code ready} or {@code failed}
 * @param residence      where its K/V are when ready: {@code device} (GPU memory), {@code host} (CPU memory) or
 *                       {@code disk} (its persisted segment, restored on the first question)
 * @param tokens         tokens of the rendered corpus, once known
 * @param kvBytes        KV cache bytes it takes when resident
 * @param persistedBytes bytes of its segment on disk
 * @param progress       while preparing: the engine's last report
 * @param error          why it failed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CorpusView(String name, String status, String residence, Integer tokens, Long kvBytes,
                         Long persistedBytes, Progress progress, String error, List<DocumentSummary> documents) {

    /**
     * @param stage {@code restoring}, {@code prefilling}, {@code persisting} or {@code ready}
     */
    public record Progress(String stage, int doneTokens, int totalTokens, double percent) {
    }
}
