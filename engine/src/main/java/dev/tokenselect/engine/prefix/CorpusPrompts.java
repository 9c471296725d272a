package dev.tokenselect.engine.prefix;

import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * Turns a corpus into a stable prefix of tokens and a question into the tokens that follow it. The corpus is
 * the system message of a chat rendered with the model's template; the question is the user turn, followed
 * by the opening of the assistant's turn. Template text is tokenized with special tokens recognized, the
 * documents and the question with special tokens split (untrusted text cannot inject control tokens).
 * Without a chat template, plain text is used.
 */
public final class CorpusPrompts {

    /** One document of a corpus. */
    public record Document(String title, String text) {
    }

    private static final String CORPUS_SLOT = "\u0001TOKENSELECT_CORPUS\u0001";
    private static final String QUESTION_SLOT = "\u0001TOKENSELECT_QUESTION\u0001";
    static final String INSTRUCTIONS = "Answer the user's questions using the documents below.\n\n";

    private final Tokenizer tokenizer;
    private final ChatFormat chat;

    public CorpusPrompts(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.chat = tokenizer.chatTemplate().isPresent() ? ChatFormat.of(tokenizer) : null;
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
        String full = chat.render(List.of(message("system", CORPUS_SLOT), message("user", QUESTION_SLOT)), null, true,
                Map.of("enable_thinking", false));
        if (!full.startsWith(prefix)) {
            throw new IllegalStateException("the chat template renders the system message differently when a user turn "
                    + "follows; a corpus cannot be a cached prefix with this template");
        }
        String suffix = full.substring(prefix.length());
        int at = suffix.indexOf(QUESTION_SLOT);
        return concat(tokenizer.encode(suffix.substring(0, at), false),
                tokenizer.encode(question, false, true),
                tokenizer.encode(suffix.substring(at + QUESTION_SLOT.length()), false));
    }

    private String corpusTemplate() {
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
