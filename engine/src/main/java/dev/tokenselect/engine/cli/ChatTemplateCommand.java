package dev.tokenselect.engine.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "chat-template", description = "Render a conversation with the model's chat template (generation prompt added).")
final class ChatTemplateCommand extends ModelCommand {

    @Option(names = "--messages", required = true, paramLabel = "FILE",
            description = "JSON array of {\"role\", \"content\"} messages")
    Path messages;

    @Option(names = "--tools", paramLabel = "FILE", description = "JSON array of tool definitions (OpenAI function format)")
    Path tools;

    @Option(names = "--no-generation-prompt", description = "Do not open an assistant turn at the end")
    boolean noGenerationPrompt;

    @Override
    public Integer call() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(common.model);
        List<Map<String, Object>> msgs = ChatRendering.readList(Files.readString(messages), messages);
        List<Map<String, Object>> toolList = tools == null ? null : ChatRendering.readList(Files.readString(tools), tools);
        String text = ChatRendering.render(common.model, tokenizer, msgs, toolList, !noGenerationPrompt, Map.of());
        int[] ids = tokenizer.encode(text, false);
        CliOutput out = output();
        if (out.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("text", text);
            result.put("ids", ids);
            out.object(result);
        } else {
            out.text(text);
            out.info("\n" + ids.length + " tokens");
        }
        return 0;
    }
}
