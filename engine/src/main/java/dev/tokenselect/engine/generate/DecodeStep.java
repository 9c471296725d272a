package dev.tokenselect.engine.generate;

import java.util.List;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Candidates;
import dev.tokenselect.engine.backend.Sequence;

/**
 * One decode step of several generation runs, the backend asked for no more than their next tokens
 * need: each row's argmax when every run is plain greedy, each row's k best candidates when every run
 * is greedy or sampled under a top-k (k the largest), else the logits rows.
 */
record DecodeStep(int[] argmax, Candidates[] candidates, float[][] logits) {

    static DecodeStep run(Backend backend, List<? extends Sequence> sequences, int[] tokens,
                          List<GenerationRun> runs) {
        if (runs.stream().allMatch(GenerationRun::argmaxSuffices)) {
            return new DecodeStep(backend.decodeArgmax(sequences, tokens), null, null);
        }
        int vocab = backend.config().vocabSize();
        int k = 0;
        for (GenerationRun run : runs) {
            int need = run.candidatesNeeded(vocab);
            if (need == 0) {
                return new DecodeStep(null, null, backend.decode(sequences, tokens));
            }
            k = Math.max(k, need);
        }
        return new DecodeStep(null, backend.decodeCandidates(sequences, tokens, k), null);
    }

    /** Hands run i its next token; true when its generation has ended. */
    boolean accept(int i, GenerationRun run) {
        return argmax != null ? run.acceptToken(argmax[i])
                : candidates != null ? run.accept(candidates[i]) : run.accept(logits[i]);
    }
}
