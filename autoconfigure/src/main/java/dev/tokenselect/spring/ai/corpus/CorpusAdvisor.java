package dev.tokenselect.spring.ai.corpus;

import java.util.Objects;

import org.springframework.ai.chat.client.ChatClientRequest;
import org.springframework.ai.chat.client.ChatClientResponse;
import org.springframework.ai.chat.client.advisor.api.AdvisorChain;
import org.springframework.ai.chat.client.advisor.api.BaseAdvisor;
import org.springframework.ai.chat.prompt.ChatOptions;

import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;

/**
 * Puts a registered corpus in front of the conversation: the vector-free counterpart of Spring AI's
 * {@code QuestionAnswerAdvisor}. Instead of retrieving chunks into the user message, the request continues the
 * corpus's resident prefix (its documents as the system turn, rendered byte for byte as when it was registered), so
 * the model reads every document and only the conversation after it is prefilled.
 *
 * <pre>{@code
 * ChatClient client = ChatClient.builder(chatModel)
 *         .defaultAdvisors(CorpusAdvisor.builder(corpusService).corpus("handbook").build())
 *         .build();
 * client.prompt().user("How many vacation days do I get?").call().content();
 * // or per request, with the advisor registered without a default corpus:
 * client.prompt().user(q).advisors(a -> a.param(CorpusAdvisor.CORPUS, "handbook")).call().content();
 * }</pre>
 *
 * Works with {@code TokenSelectChatModel} only (the corpus is an option of its requests).
 */
public final class CorpusAdvisor implements BaseAdvisor {

    /** Advisor parameter naming the corpus of one request; it overrides the advisor's default corpus. */
    public static final String CORPUS = "tokenselect_corpus";

    /** Same place in the chain as {@code QuestionAnswerAdvisor}. */
    public static final int DEFAULT_ORDER = 0;

    private final CorpusService corpora;
    private final String corpus;
    private final int order;

    private CorpusAdvisor(CorpusService corpora, String corpus, int order) {
        this.corpora = Objects.requireNonNull(corpora, "corpusService");
        this.corpus = corpus;
        this.order = order;
    }

    public static Builder builder(CorpusService corpora) {
        return new Builder(corpora);
    }

    @Override
    public int getOrder() {
        return order;
    }

    @Override
    public ChatClientRequest before(ChatClientRequest request, AdvisorChain chain) {
        Object param = request.context().get(CORPUS);
        String name = param != null ? param.toString() : corpus;
        if (name == null) {
            return request; // neither a default nor this request names a corpus: an ordinary conversation
        }
        if (!corpora.exists(name)) {
            throw new IllegalArgumentException("no corpus named '" + name + "' is registered; register it first with "
                    + "CorpusService.register(\"" + name + "\", documents) (registered: " + corpora.list() + ")");
        }
        ChatOptions options = request.prompt().getOptions();
        if (!(options instanceof TokenSelectChatOptions ts)) {
            throw new IllegalStateException("CorpusAdvisor needs the TokenSelect chat model: this request's options are "
                    + (options == null ? "null" : options.getClass().getName()));
        }
        TokenSelectChatOptions withCorpus = ts.mutate().corpus(name).build();
        return request.mutate()
                .prompt(request.prompt().mutate().chatOptions(withCorpus).build())
                .context(CORPUS, name)
                .build();
    }

    @Override
    public ChatClientResponse after(ChatClientResponse response, AdvisorChain chain) {
        return response;
    }

    public static final class Builder {
        private final CorpusService corpora;
        private String corpus;
        private int order = DEFAULT_ORDER;

        private Builder(CorpusService corpora) {
            this.corpora = corpora;
        }

        /** The corpus of every request through this advisor, unless a request names another with {@link #CORPUS}. */
        public Builder corpus(String name) {
            this.corpus = name;
            return this;
        }

        public Builder order(int order) {
            this.order = order;
            return this;
        }

        public CorpusAdvisor build() {
            return new CorpusAdvisor(corpora, corpus, order);
        }
    }
}
