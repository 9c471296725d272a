package dev.tokenselect.engine.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.tokenselect.engine.hub.HubClient;

import picocli.CommandLine.Option;

/** Options every model command takes. */
final class CommonOptions {

    @Option(names = "--model", required = true, paramLabel = "DIR|REPO_ID",
            description = "Hugging Face model directory (config.json, model.safetensors, tokenizer.json, tokenizer_config.json),"
                    + " or a Hugging Face repo id, downloaded into the huggingface_hub cache")
    Path model;

    @Option(names = "--revision", paramLabel = "R", description = "Branch, tag or commit of a --model repo id (default: main)")
    String revision;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else")
    boolean json;

    /** A --model that names no existing path is a repo id: it becomes its snapshot in the Hub cache. */
    void resolveModel() {
        if (model != null && !Files.exists(model)) {
            model = HubClient.fromEnvironment().resolve(model.toString(), revision);
        }
    }
}
