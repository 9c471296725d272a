package dev.tokenselect.engine.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.tokenselect.engine.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** The prompt: text, a file of text, or token ids. */
final class PromptOptions {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text")
        String text;

        @Option(names = "--prompt-file", paramLabel = "FILE", description = "File holding the prompt text (UTF-8)")
        Path file;

        @Option(names = "--prompt-ids", paramLabel = "IDS", split = ",", description = "Comma-separated token ids")
        int[] ids;
    }

    @Option(names = "--add-special-tokens", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Add the tokenizer's special tokens (e.g. Llama's BOS) to a text prompt (default: ${DEFAULT-VALUE})")
    boolean addSpecialTokens;

    @Option(names = "--chat", description = "Wrap the prompt text as one user message with the model's chat template")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message for --chat")
    String system;

    int[] ids(Path modelDir, Tokenizer tokenizer) throws IOException {
        if (source.ids != null) {
            if (chat) {
                throw new IllegalArgumentException("--chat needs a text prompt, not --prompt-ids");
            }
            return Arrays.copyOf(source.ids, source.ids.length);
        }
        String text = source.text != null ? source.text : Files.readString(source.file);
        if (chat) {
            String rendered = ChatRendering.render(modelDir, tokenizer, ChatRendering.userTurn(system, text), true);
            return tokenizer.encode(rendered, false);
        }
        return tokenizer.encode(text, addSpecialTokens);
    }
}
