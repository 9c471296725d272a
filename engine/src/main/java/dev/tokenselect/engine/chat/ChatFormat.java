package dev.tokenselect.engine.chat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.template.ChatTemplate;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * Turns a conversation into prompt text with the model's own chat template, exactly as
 * transformers' {@code apply_chat_template} does (same variables, same special tokens).
 */
public final class ChatFormat {

    private final ChatTemplate template;
    private final ChatTemplate toolTemplate;
    private final Map<String, Object> specialTokens;

    private ChatFormat(ChatTemplate template, ChatTemplate toolTemplate, Map<String, Object> specialTokens) {
        this.template = template;
        this.toolTemplate = toolTemplate;
        this.specialTokens = specialTokens;
    }

    /** The template from tokenizer_config.json (or chat_template.jinja) of the tokenizer's model. */
    public static ChatFormat of(Tokenizer tokenizer) {
        String source = tokenizer.chatTemplate().orElseThrow(() -> new IllegalArgumentException(tokenizer.source()
                + ": the tokenizer has no chat_template; this is a base model: give a plain prompt instead of messages"));
        Map<String, Object> special = new HashMap<>();
        tokenizer.bosToken().ifPresent(t -> special.put("bos_token", t));
        tokenizer.eosToken().ifPresent(t -> special.put("eos_token", t));
        tokenizer.padToken().ifPresent(t -> special.put("pad_token", t));
        tokenizer.unkToken().ifPresent(t -> special.put("unk_token", t));
        // Like transformers: a named "tool_use" template, where a checkpoint ships one, renders requests with tools.
        String toolSource = tokenizer.chatTemplates().get("tool_use");
        return new ChatFormat(ChatTemplate.compile(source), toolSource == null ? null : ChatTemplate.compile(toolSource),
                Map.copyOf(special));
    }

    /**
     * @param messages            {@code {role, content, ...}} maps (tool_calls, name, ... pass through)
     * @param tools               tool definitions in the OpenAI function format, or null
     * @param addGenerationPrompt open an assistant turn at the end
     * @param extra               further template variables, e.g. {@code enable_thinking}
     */
    public String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                         boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> context = new HashMap<>(specialTokens);
        context.putAll(extra);
        context.put("messages", messages);
        if (tools != null) {
            context.put("tools", tools);
        }
        context.put("add_generation_prompt", addGenerationPrompt);
        return (tools != null && toolTemplate != null ? toolTemplate : template).render(context);
    }

    /** The template that renders requests with tools: it shows what call syntax the model was taught. */
    String toolTemplateSource() {
        return (toolTemplate != null ? toolTemplate : template).source();
    }
}
