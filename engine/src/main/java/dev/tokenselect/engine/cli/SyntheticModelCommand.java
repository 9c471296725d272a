package dev.tokenselect.engine.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

@Command(name = "synthetic-model",
        description = "Write a random-weight model of a real geometry in the Hugging Face layout (for tests and benchmarks).")
final class SyntheticModelCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Shape shape;

    static final class Shape {
        @Option(names = "--preset", description = "qwen2.5-0.5b, qwen2-7b, llama-3.2-1b or qwen3-0.6b")
        String preset;

        @Option(names = "--config", paramLabel = "FILE", description = "A config.json to copy the geometry from")
        Path config;
    }

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write")
    Path out;

    @Option(names = "--dtype", defaultValue = "bf16", description = "bf16, f16 or f32 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "Weight seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--shards", defaultValue = "1", description = "Number of safetensors shards (default: ${DEFAULT-VALUE})")
    int shards;

    @Option(names = "--tokenizer-from", paramLabel = "DIR",
            description = "Directory with tokenizer.json (or .gz) and tokenizer_config.json to copy")
    Path tokenizerFrom;

    @Option(names = "--json", description = "Print one JSON object on stdout")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ObjectNode config = shape.preset != null ? Presets.config(shape.preset)
                : (ObjectNode) CliOutput.mapper().readTree(Files.readString(shape.config));
        ObjectNode generation = CliOutput.mapper().createObjectNode();
        if (config.has("eos_token_id")) {
            generation.set("eos_token_id", config.get("eos_token_id"));
        }
        if (config.has("bos_token_id")) {
            generation.set("bos_token_id", config.get("bos_token_id"));
        }
        SyntheticModelWriter.write(out, config, generation, seed, DType.parse(dtype), shards, tokenizerFrom);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("directory", out.toAbsolutePath().toString());
        result.put("architecture", config.get("architectures").get(0).asString());
        result.put("dtype", dtype);
        if (json) {
            spec.commandLine().getOut().println(CliOutput.toJson(result));
        } else {
            spec.commandLine().getErr().println("wrote " + result);
        }
        return 0;
    }
}
