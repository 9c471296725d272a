package dev.tokenselect.engine.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.tokenizer.Tokenizer;
import tools.jackson.core.type.TypeReference;

/** Reads message files and renders them with the model's chat template. */
final class ChatRendering {

    private ChatRendering() {
    }

    static List<Map<String, Object>> readList(String json, Path source) {
        try {
            return CliOutput.mapper().readValue(json, new TypeReference<List<Map<String, Object>>>() { });
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": expected a JSON array of objects (" + e.getMessage() + ")", e);
        }
    }

    static List<Map<String, Object>> userTurn(String system, String text) {
        List<Map<String, Object>> messages = new ArrayList<>();
        if (system != null) {
            messages.add(message("system", system));
        }
        messages.add(message("user", text));
        return messages;
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    static String render(Path modelDir, Tokenizer tokenizer, List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return render(modelDir, tokenizer, messages, null, addGenerationPrompt, Map.of());
    }

    static String render(Path modelDir, Tokenizer tokenizer, List<Map<String, Object>> messages,
                         List<Map<String, Object>> tools, boolean addGenerationPrompt, Map<String, Object> extra) {
        return ChatFormat.of(tokenizer).render(messages, tools, addGenerationPrompt, extra);
    }
}
