package dev.tokenselect.engine.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.select.TopK;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", description = "The highest logits at the last prompt position.")
final class LogitsCommand extends ModelCommand {

    @Mixin
    PromptOptions prompt;

    @Mixin
    BackendOptions backend;

    @Mixin
    AttentionOptions attention;

    @Option(names = "--top", defaultValue = "10", description = "How many logits to print (default: ${DEFAULT-VALUE})")
    int top;

    @Override
    public Integer call() throws Exception {
        CliOutput out = output();
        try (Engine engine = Engine.open(common.model, backend.engineOptions())) {
            int[] ids = prompt.ids(common.model, engine.tokenizer());
            float[] logits;
            Map<String, Object> stats = new LinkedHashMap<>();
            var spec = attention.spec(backend.prefillChunk(), backend.prefillChunk != null);
            try (Sequence seq = engine.backend().newSequence(spec)) {
                logits = engine.generator(backend.prefillChunk()).prefill(seq, ids);
                stats.put("policy", spec.name());
                stats.put("prompt_tokens", ids.length);
                stats.putAll(seq.selectionStats().toMap());
            }
            // the top ids (ties to the lower id), printed highest first
            int[] best = java.util.Arrays.stream(TopK.ascending(logits, logits.length, Math.min(top, logits.length)))
                    .boxed().sorted((a, b) -> Float.compare(logits[b], logits[a])).mapToInt(Integer::intValue).toArray();
            float[] values = new float[best.length];
            for (int i = 0; i < best.length; i++) {
                values[i] = logits[best[i]];
            }
            if (out.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("ids", best);
                json.put("values", values);
                json.put("stats", stats);
                out.object(json);
            } else {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < best.length; i++) {
                    sb.append(String.format("%8d  %12.6f  %s%n", best[i], values[i],
                            engine.tokenizer().idToToken(best[i]).orElse("?")));
                }
                out.text(sb.toString());
            }
        }
        return 0;
    }
}
