package dev.tokenselect.engine.prefix;

import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * Turns a corpus into a stable prefix of tokens and a question into the tokens that follow it. By default the
 * corpus is the system message of a chat rendered with the model's template and the question is the user turn,
 * followed by the opening of the assistant's turn; with {@link Turn#USER} the corpus opens the first user turn and
 * the question ends it (the layout small models trained on "documents, then question" answer best). Template text
 * is tokenized with special tokens recognized, the documents and the question with special tokens split (untrusted
 * text cannot inject control tokens). Without a chat template, plain text is used.
 */
public final class CorpusPrompts {

    /** One document of a corpus. */
    public record Document(String title, String text) {
    }

    /** Which turn of the chat holds the corpus. */
    public enum Turn {
        /** the system message; the conversation follows it */
        SYSTEM,
        /** the start of the first user message, which the question (the first user message's text) ends */
        USER;

        /** {@code system} or {@code user}, any case. */
        public static Turn of(String name) {
            for (Turn t : values()) {
                if (t.name().equalsIgnoreCase(name == null ? "" : name.strip())) {
                    return t;
                }
            }
            throw new IllegalArgumentException("corpus turn '" + name + "' is neither 'system' nor 'user'");
        }
    }

    private static final String CORPUS_SLOT = "\u0001TOKENSELECT_CORPUS\u0001";
    private static final String QUESTION_SLOT = "\u0001TOKENSELECT_QUESTION\u0001";
    static final String INSTRUCTIONS = "Answer the user's questions using the documents below.\n\n";
    /** Between the corpus and the question when both share the user turn. */
    static final String QUESTION_SEPARATOR = "\n\n";

    private final Tokenizer tokenizer;
    private final ChatFormat chat;
    private final Turn turn;

    public CorpusPrompts(Tokenizer tokenizer) {
        this(tokenizer, Turn.SYSTEM);
    }

    public CorpusPrompts(Tokenizer tokenizer, Turn turn) {
        this.tokenizer = tokenizer;
        this.chat = tokenizer.chatTemplate().isPresent() ? ChatFormat.of(tokenizer) : null;
        this.turn = java.util.Objects.requireNonNull(turn, "turn");
    }

    public Turn turn() {
        return turn;
    }

    /**
     * Whether {@code corpusTokens} were made in this turn: they start with the template's opening of that turn.
     * A corpus catalogued under the other turn must be registered again.
     */
    public boolean madeHere(int[] corpusTokens) {
        if (chat == null) {
            return true;
        }
        String rendered = corpusTemplate();
        int[] head = tokenizer.encode(rendered.substring(0, rendered.indexOf(CORPUS_SLOT)), false);
        return corpusTokens.length >= head.length
                && java.util.Arrays.equals(corpusTokens, 0, head.length, head, 0, head.length);
    }

    /** The documents as one text, in order. */
    public static String corpusText(List<Document> documents) {
        StringBuilder sb = new StringBuilder(INSTRUCTIONS);
        for (int i = 0; i < documents.size(); i++) {
            Document d = documents.get(i);
            sb.append("<document index=\"").append(i + 1).append("\" title=\"").append(d.title()).append("\">\n")
                    .append(d.text()).append("\n</document>\n");
        }
        return sb.toString();
    }

    /** The corpus prefix tokens. */
    public int[] corpusTokens(List<Document> documents) {
        String text = corpusText(documents);
        if (chat == null) {
            return tokenizer.encode(text, true, true);
        }
        String rendered = corpusTemplate();
        int at = rendered.indexOf(CORPUS_SLOT);
        return concat(tokenizer.encode(rendered.substring(0, at), false),
                tokenizer.encode(text, false, true),
                tokenizer.encode(rendered.substring(at + CORPUS_SLOT.length()), false));
    }

    /** The tokens that follow a corpus prefix to ask {@code question}. */
    public int[] questionTokens(String question) {
        if (chat == null) {
            return concat(tokenizer.encode("\n\nQuestion: ", false),
                tokenizer.encode(question, false, true),
                tokenizer.encode("\nAnswer:", false));
        }
        String prefix = corpusTemplate();
        String full = chat.render(turn == Turn.USER ? List.of(message("user", CORPUS_SLOT + QUESTION_SEPARATOR + QUESTION_SLOT))
                : List.of(message("system", CORPUS_SLOT), message("user", QUESTION_SLOT)), null, true,
                Map.of("enable_thinking", false));
        if (!full.startsWith(prefix)) {
            throw new IllegalStateException("the chat template renders the corpus's " + turn.name().toLowerCase(java.util.Locale.ROOT)
                    + " turn differently when a question follows; a corpus cannot be a cached prefix with this template");
        }
        String suffix = full.substring(prefix.length());
        int at = suffix.indexOf(QUESTION_SLOT);
        return concat(tokenizer.encode(suffix.substring(0, at), false),
                tokenizer.encode(question, false, true),
                tokenizer.encode(suffix.substring(at + QUESTION_SLOT.length()), false));
    }

    /**
     * The whole prompt of a conversation held after the corpus: the corpus's turn, then {@code messages}
     * (HF message maps, any roles the template accepts; with {@link Turn#USER} the first user message's text follows
     * the corpus in its turn), {@code tools} and the opening of the assistant's turn.
     * When the template renders the corpus turn the same way with this conversation, the result starts with
     * {@code corpusTokens} exactly (the resident prefix is shared whole). Otherwise (a template that puts the tool
     * definitions into the system turn) it starts with the corpus's opening and document tokens, so the cached
     * full blocks of those are still shared. The conversation's own text is tokenized as transformers does it
     * (special tokens recognized).
     *
     * @param corpusTokens the corpus's prefix ({@link #corpusTokens})
     * @param templateArgs further template variables (e.g. {@code enable_thinking}); may be empty
     */
    public int[] conversationTokens(int[] corpusTokens, List<Map<String, Object>> messages,
                                    List<Map<String, Object>> tools, Map<String, Object> templateArgs) {
        if (chat == null) {
            if (tools != null && !tools.isEmpty()) {
                throw new IllegalArgumentException(tokenizer.source() + ": the model has no chat template, so it cannot "
                        + "be given tools");
            }
            Object last = messages.isEmpty() ? null : messages.get(messages.size() - 1).get("content");
            return concat(corpusTokens, questionTokens(last == null ? "" : last.toString()));
        }
        String full = chat.render(withCorpus(messages), tools, true, templateArgs);
        String prefix = corpusTemplate();
        if (full.startsWith(prefix)) {
            return concat(corpusTokens, tokenizer.encode(full.substring(prefix.length()), false));
        }
        int at = full.indexOf(CORPUS_SLOT);
        if (at < 0) {
            throw new IllegalStateException("the chat template drops the message that holds the corpus");
        }
        int slot = prefix.indexOf(CORPUS_SLOT);
        int head = tokenizer.encode(prefix.substring(0, slot), false).length;
        int tail = tokenizer.encode(prefix.substring(slot + CORPUS_SLOT.length()), false).length;
        int[] documents = java.util.Arrays.copyOfRange(corpusTokens, head, corpusTokens.length - tail);
        return concat(tokenizer.encode(full.substring(0, at), false), documents,
                tokenizer.encode(full.substring(at + CORPUS_SLOT.length()), false));
    }

    /** The conversation with the corpus slot in its turn. */
    private List<Map<String, Object>> withCorpus(List<Map<String, Object>> messages) {
        List<Map<String, Object>> all = new java.util.ArrayList<>(messages.size() + 1);
        if (turn == Turn.SYSTEM) {
            all.add(message("system", CORPUS_SLOT));
            all.addAll(messages);
            return all;
        }
        boolean placed = false;
        for (Map<String, Object> m : messages) {
            if (!placed && "user".equals(m.get("role"))) {
                Map<String, Object> first = new java.util.HashMap<>(m);
                Object content = m.get("content");
                first.put("content", CORPUS_SLOT + QUESTION_SEPARATOR + (content == null ? "" : content));
                all.add(first);
                placed = true;
            } else {
                all.add(m);
            }
        }
        if (!placed) {
            all.add(message("user", CORPUS_SLOT));
        }
        return all;
    }

    /** The template's rendering up to and around the corpus slot: the text the corpus's tokens are made of. */
    private String corpusTemplate() {
        if (turn == Turn.USER) {
            // the user turn stays open: what follows the slot belongs to the question
            String rendered = chat.render(List.of(message("user", CORPUS_SLOT)), null, false, Map.of("enable_thinking", false));
            return rendered.substring(0, rendered.indexOf(CORPUS_SLOT) + CORPUS_SLOT.length());
        }
        return chat.render(List.of(message("system", CORPUS_SLOT)), null, false, Map.of("enable_thinking", false));
    }

    private static Map<String, Object> message(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
