package dev.tokenselect.sample.chat;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.stereotype.Service;

import dev.tokenselect.sample.corpus.CorpusLibrary;
import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;
import dev.tokenselect.spring.ai.corpus.CorpusAdvisor;
import dev.tokenselect.spring.ai.corpus.CorpusService;
import reactor.core.publisher.Flux;

/**
 * Answers questions through Spring AI's {@code ChatClient}; a question on a corpus goes through {@link CorpusAdvisor},
 * which continues the corpus's resident prefix, so only the conversation is prefilled. Shared by the chat page and
 * the OpenAI-compatible API.
 */
@Service
public class Conversations {

    private final ChatClient client;
    private final CorpusLibrary library;

    public Conversations(ChatClient.Builder builder, CorpusService corpora, CorpusLibrary library) {
        // no default corpus: each request names its own through the advisor's parameter
        this.client = builder.defaultAdvisors(CorpusAdvisor.builder(corpora).build()).build();
        this.library = library;
    }

    /** Checks the corpus first, so a missing or unready one fails before any answer starts. */
    public Flux<ChatResponse> stream(ChatQuery query) {
        return request(query).stream().chatResponse();
    }

    public ChatResponse call(ChatQuery query) {
        return request(query).call().chatResponse();
    }

    private ChatClient.ChatClientRequestSpec request(ChatQuery query) {
        if (query.corpus() != null) {
            library.requireReady(query.corpus());
        }
        TokenSelectChatOptions options = query.options() != null ? query.options()
                : TokenSelectChatOptions.builder().build();
        return client.prompt(new Prompt(query.messages(), options)).advisors(a -> {
            if (query.corpus() != null) {
                a.param(CorpusAdvisor.CORPUS, query.corpus());
            }
        });
    }
}
