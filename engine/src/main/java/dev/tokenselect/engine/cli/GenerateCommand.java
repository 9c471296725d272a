package dev.tokenselect.engine.cli;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.TokenListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "generate", description = "Generate a continuation of a prompt (greedy unless --temperature > 0).")
final class GenerateCommand extends ModelCommand {

    @Mixin
    PromptOptions prompt;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    BackendOptions backend;

    @Mixin
    AttentionOptions attention;

    @Override
    public Integer call() throws Exception {
        CliOutput out = output();
        try (Engine engine = Engine.open(common.model, backend.engineOptions())) {
            int[] ids = prompt.ids(common.model, engine.tokenizer());
            TokenListener listener = out.json() ? TokenListener.NONE : out::text;
            var spec = attention.spec(backend.prefillChunk(), backend.prefillChunk != null);
            GenerationResult result = engine.generator(backend.prefillChunk()).generate(spec, ids, sampling.params(), listener);
            Map<String, Object> stats = new LinkedHashMap<>();
            stats.put("policy", spec.name());
            stats.putAll(result.stats().toMap());
            stats.put("finish_reason", result.finishReason().name().toLowerCase(java.util.Locale.ROOT));
            if (out.json()) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("ids", result.ids());
                json.put("text", result.text());
                json.put("stats", stats);
                out.object(json);
            } else {
                out.text("\n");
                out.info(CliOutput.toJson(stats));
            }
        }
        return 0;
    }
}
