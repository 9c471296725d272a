package dev.tokenselect.engine.cli;

import java.util.List;

import dev.tokenselect.engine.generate.SamplingParams;
import picocli.CommandLine.Option;

/** Sampling and stopping options of {@code generate}. */
final class SamplingOptions {

    @Option(names = "--max-tokens", required = true, paramLabel = "N", description = "Most tokens to generate")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 is greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Keep the K most likely tokens, 0 disables")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass, 1 disables")
    double topP;

    @Option(names = "--min-p", defaultValue = "0", description = "Drop tokens below this fraction of the best, 0 disables")
    double minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "1 disables")
    double repetitionPenalty;

    @Option(names = "--seed", description = "Random seed for sampling")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop before this text (repeatable)")
    List<String> stop;

    @Option(names = "--ignore-eos", description = "Do not stop at the model's end-of-sequence tokens")
    boolean ignoreEos;

    SamplingParams params() {
        return SamplingParams.builder().maxTokens(maxTokens).temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repetitionPenalty(repetitionPenalty).seed(seed).stopStrings(stop).ignoreEos(ignoreEos).build();
    }
}
