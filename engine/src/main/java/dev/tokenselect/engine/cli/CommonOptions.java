package dev.tokenselect.engine.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

/** Options every model command takes. */
final class CommonOptions {

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)")
    Path model;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else")
    boolean json;
}
