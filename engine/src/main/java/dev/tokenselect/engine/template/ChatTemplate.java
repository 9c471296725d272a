package dev.tokenselect.engine.template;

import java.time.Clock;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A compiled Hugging Face chat template, rendered the way transformers' {@code apply_chat_template(tokenize=False)}
 * renders it: Jinja2 with {@code trim_blocks}, {@code lstrip_blocks}, loop controls, the {@code generation} tag,
 * {@code raise_exception}, {@code strftime_now} and a {@code tojson} that is Python's {@code json.dumps}.
 *
 * <p>Instances are immutable and thread-safe; compile once, render many times. Rendering takes plain Java values
 * (String, Number, Boolean, null, List, Map; Jackson {@link JsonNode}s are converted) and fails with a
 * {@link TemplateException} naming the template line and column.
 */
public final class ChatTemplate {

    /** Special-token keys of tokenizer_config.json that transformers passes to the template when set. */
    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token", "additional_special_tokens");

    private final String source;
    private final List<Node> body;
    private final ScopeAnalysis scopes;
    private final Map<String, Object> specialTokens;
    private final Clock clock;

    private ChatTemplate(String source, List<Node> body, ScopeAnalysis scopes, Map<String, Object> specialTokens,
                         Clock clock) {
        this.source = source;
        this.body = body;
        this.scopes = scopes;
        this.specialTokens = specialTokens;
        this.clock = clock;
    }

    /** Compiles a template without special tokens (pass them per render, or use {@link #compile(String, Map)}). */
    public static ChatTemplate compile(String source) {
        return compile(source, Map.of());
    }

    /**
     * Compiles a template whose chat renders also receive {@code specialTokens} (e.g. {@code bos_token},
     * {@code eos_token}). Leave a token out rather than mapping it to null: transformers omits unset tokens, so the
     * template sees them as undefined (rendering "") rather than None (rendering "None").
     */
    public static ChatTemplate compile(String source, Map<String, ?> specialTokens) {
        if (source == null) {
            throw new IllegalArgumentException("chat template source is null");
        }
        Map<String, Object> tokens = new LinkedHashMap<>();
        specialTokens.forEach((k, v) -> {
            if (v != null) {
                tokens.put(k, PyValues.fromJava(v));
            }
        });
        List<Node> body = Parser.parse(source);
        return new ChatTemplate(source, body, ScopeAnalysis.of(body), Collections.unmodifiableMap(tokens),
                Clock.systemDefaultZone());
    }

    /**
     * Compiles the {@code chat_template} of a parsed tokenizer_config.json together with its special tokens. When the
     * config holds a list of named templates, the one named "default" is used.
     */
    public static ChatTemplate fromTokenizerConfig(JsonNode config) {
        return fromTokenizerConfig(config, "default");
    }

    /** As {@link #fromTokenizerConfig(JsonNode)}, choosing the named template when the config holds several. */
    public static ChatTemplate fromTokenizerConfig(JsonNode config, String templateName) {
        JsonNode template = config.get("chat_template");
        String source = null;
        if (template != null && template.isString()) {
            source = template.stringValue();
        } else if (template != null && template.isArray()) {
            for (JsonNode named : template) {
                JsonNode name = named.get("name");
                if (name != null && templateName.equals(name.stringValue())) {
                    source = named.get("template").stringValue();
                }
            }
        }
        if (source == null) {
            throw new IllegalArgumentException("tokenizer config has no chat_template" + (template != null
                    && template.isArray() ? " named '" + templateName + "'" : ""));
        }
        Map<String, Object> tokens = new LinkedHashMap<>();
        for (String key : SPECIAL_TOKEN_KEYS) {
            Object value = tokenContent(config.get(key));
            if (value != null) {
                tokens.put(key, value);
            }
        }
        return compile(source, tokens);
    }

    /** A token is either a string or an AddedToken object with a "content" field. */
    private static Object tokenContent(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isObject() && node.has("content")) {
            return node.get("content").stringValue();
        }
        if (node.isArray()) {
            List<Object> out = new java.util.ArrayList<>();
            for (JsonNode item : node) {
                out.add(tokenContent(item));
            }
            return out;
        }
        return JsonValues.toJava(node);
    }

    /** The same template with {@code strftime_now} reading this clock (for reproducible dates). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(source, body, scopes, specialTokens, clock);
    }

    public String source() {
        return source;
    }

    /** The special tokens every {@link #render(List, boolean, List, Map)} passes to the template. */
    public Map<String, Object> specialTokens() {
        return specialTokens;
    }

    /** Renders with exactly these template variables (no special tokens are added). */
    public String render(Map<String, ?> variables) {
        Map<String, Object> context = new HashMap<>();
        variables.forEach((k, v) -> context.put(k, PyValues.fromJava(v)));
        return new Interpreter(context, clock, scopes).render(body);
    }

    /**
     * Renders a chat like transformers' {@code apply_chat_template(messages, tools=tools,
     * add_generation_prompt=..., tokenize=False, **extraVariables)}: the template sees the special tokens,
     * {@code documents} (None unless given in {@code extraVariables}), the extra variables (e.g.
     * {@code enable_thinking}), {@code messages}, {@code tools} (null means None) and {@code add_generation_prompt}.
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
                         List<? extends Map<String, ?>> tools, Map<String, ?> extraVariables) {
        Map<String, Object> variables = new HashMap<>(specialTokens);
        variables.put("documents", null);
        if (extraVariables != null) {
            for (String reserved : List.of("messages", "tools", "add_generation_prompt")) {
                if (extraVariables.containsKey(reserved)) {
                    throw new IllegalArgumentException("'" + reserved + "' cannot be passed as an extra variable");
                }
            }
            variables.putAll(extraVariables);
        }
        variables.put("messages", messages);
        variables.put("tools", tools);
        variables.put("add_generation_prompt", addGenerationPrompt);
        return render(variables);
    }

    /** Converts a Jackson tree (e.g. request messages or tool schemas) into template values. */
    public static Object fromJson(JsonNode node) {
        return JsonValues.toJava(node);
    }
}
