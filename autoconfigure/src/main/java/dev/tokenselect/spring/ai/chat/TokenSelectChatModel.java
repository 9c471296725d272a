package dev.tokenselect.spring.ai.chat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.model.MessageAggregator;
import org.springframework.ai.chat.observation.ChatModelObservationContext;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.ai.chat.observation.ChatModelObservationDocumentation;
import org.springframework.ai.chat.observation.DefaultChatModelObservationConvention;
import org.springframework.ai.chat.prompt.Prompt;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.generate.FinishReason;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.serve.Completion;
import dev.tokenselect.engine.serve.InferenceRequest;
import dev.tokenselect.engine.serve.InferenceService;

/**
 * A Spring AI {@link ChatModel} on the TokenSelect engine. The conversation is rendered with the checkpoint's own
 * chat template (tools included), queued on the engine's batching {@link InferenceService}, and answered whole
 * ({@link #call}) or token by token ({@link #stream}). A request whose options name a corpus continues that
 * corpus's resident prefix. Tool calls in the reply come back as {@link AssistantMessage.ToolCall}s; running them
 * is {@code ChatClient}'s job. Every call is observed through Spring AI's chat-model observation.
 *
 * <p>Thread-safe: any number of threads may call it at once; the engine batches their decode steps.
 */
public final class TokenSelectChatModel implements ChatModel {

    /** The provider name in observations. */
    public static final String PROVIDER = "tokenselect";

    /** Finish reasons, as other Spring AI models spell them. */
    public static final String STOP = "STOP";
    public static final String LENGTH = "LENGTH";
    public static final String TOOL_CALLS = "TOOL_CALLS";

    /** Keys of {@link ChatResponseMetadata}. */
    public static final String CACHED_PREFIX_TOKENS = "cached-prefix-tokens";
    public static final String PREFILLED_TOKENS = "prefilled-tokens";
    public static final String TIME_TO_FIRST_TOKEN_MS = "time-to-first-token-ms";
    public static final String DECODE_TOKENS_PER_SECOND = "decode-tokens-per-second";
    public static final String ATTENTION = "attention";
    public static final String CORPUS = "corpus";

    private static final ChatModelObservationConvention DEFAULT_CONVENTION = new DefaultChatModelObservationConvention();

    private final InferenceService service;
    private final TokenSelectChatOptions defaultOptions;
    private final ObservationRegistry observationRegistry;
    private final ReplyParser replyParser;
    private final ChatFormat chatFormat;
    private final String modelName;
    private ChatModelObservationConvention observationConvention = DEFAULT_CONVENTION;

    private TokenSelectChatModel(Builder b) {
        this.service = Objects.requireNonNull(b.service, "an InferenceService is required");
        Engine engine = service.engine();
        if (engine.tokenizer().chatTemplate().isEmpty()) {
            throw new IllegalArgumentException(engine.model().directory() + " has no chat template: it is a base model, "
                    + "and a chat model needs an instruction-tuned checkpoint (tokenizer_config.json with chat_template)");
        }
        this.chatFormat = ChatFormat.of(engine.tokenizer());
        this.modelName = engine.model().directory().getFileName().toString();
        TokenSelectChatOptions defaults = b.defaultOptions != null ? b.defaultOptions : TokenSelectChatOptions.builder().build();
        this.defaultOptions = defaults.getModel() != null ? defaults : defaults.mutate().model(modelName).build();
        this.observationRegistry = b.observationRegistry;
        this.replyParser = b.replyParser != null ? b.replyParser : ReplyParser.TEXT_ONLY;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public TokenSelectChatOptions getOptions() {
        return defaultOptions;
    }

    /** The model's name: its directory's name. */
    public String modelName() {
        return modelName;
    }

    public void setObservationConvention(ChatModelObservationConvention convention) {
        this.observationConvention = Objects.requireNonNull(convention, "observationConvention");
    }

    /** A request made ready for the engine, and what its reply needs. */
    private record Prepared(InferenceRequest request, boolean tools, String corpus) {
    }

    private Prompt withOptions(Prompt prompt) {
        TokenSelectChatOptions options = RequestOptions.resolve(prompt.getOptions(), defaultOptions);
        return prompt.mutate().chatOptions(options).build();
    }

    private Prepared prepare(Prompt prompt) {
        TokenSelectChatOptions o = (TokenSelectChatOptions) prompt.getOptions();
        if (o.getModel() != null && !o.getModel().equals(modelName)) {
            throw new IllegalArgumentException("this chat model serves '" + modelName + "', the request asks for model '"
                    + o.getModel() + "': leave the model option unset or set spring.ai.tokenselect.model to that model");
        }
        List<Map<String, Object>> messages = MessageMaps.of(prompt.getInstructions());
        List<Map<String, Object>> tools = MessageMaps.tools(o.getToolCallbacks());
        Map<String, Object> args = new HashMap<>();
        if (o.getEnableThinking() != null) {
            args.put("enable_thinking", o.getEnableThinking());
        }
        int[] tokens = o.getCorpus() != null
                ? service.corpusConversation(o.getCorpus(), messages, tools, args)
                : service.engine().tokenizer().encode(chatFormat.render(messages, tools, true, args), false);
        SamplingParams sampling = RequestOptions.sampling(o, service.engine().model().generation());
        AttentionSpec attention = RequestOptions.attention(o, service.options().attention(), service.options().prefillChunk());
        return new Prepared(new InferenceRequest(tokens, o.getCorpus(), attention, sampling, null), tools != null,
                o.getCorpus());
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        Prompt request = withOptions(prompt);
        ChatModelObservationContext context = ChatModelObservationContext.builder().prompt(request).provider(PROVIDER)
                .build();
        return ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                .observation(observationConvention, DEFAULT_CONVENTION, () -> context, observationRegistry)
                .observe(() -> {
                    Prepared p = prepare(request);
                    Completion c = await(service.submit(p.request(), TokenListener.NONE));
                    ReplyParser.Reply reply = p.tools() ? replyParser.parse(c.result().text())
                            : new ReplyParser.Reply(c.result().text(), List.of());
                    ChatResponse response = response(reply.content(), reply.toolCalls(), c, p);
                    context.setResponse(response);
                    return response;
                });
    }

    /**
     * The reply as it is generated: one chunk per text delta (never a split character or stop string), then a last
     * chunk with the finish reason and usage. With tools, the text is held back and comes whole with the last chunk,
     * as a tool call is known only once the reply is complete. Cancelling the subscription ends the generation.
     */
    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return Flux.deferContextual(view -> {
            Prompt request = withOptions(prompt);
            ChatModelObservationContext context = ChatModelObservationContext.builder().prompt(request)
                    .provider(PROVIDER).streaming(true).build();
            Observation observation = ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                    .observation(observationConvention, DEFAULT_CONVENTION, () -> context, observationRegistry);
            Observation parent = view.getOrDefault(ObservationThreadLocalAccessor.KEY, null);
            observation.parentObservation(parent);
            observation.start();
            Prepared p;
            try {
                p = prepare(request);
            } catch (RuntimeException e) {
                observation.error(e);
                observation.stop();
                return Flux.error(e);
            }
            String id = UUID.randomUUID().toString();
            Flux<ChatResponse> chunks = Flux.<ChatResponse>create(sink -> {
                AtomicBoolean cancelled = new AtomicBoolean();
                sink.onDispose(() -> cancelled.set(true));
                TokenListener listener = new TokenListener() {
                    @Override
                    public void onText(String delta) {
                        if (!p.tools()) {
                            sink.next(chunk(id, delta));
                        }
                    }

                    @Override
                    public void onToken(int tokenId) {
                        if (cancelled.get()) { // ends this request in the engine's queue, no other
                            throw new CancellationException("the stream was cancelled");
                        }
                    }
                };
                service.submit(p.request(), listener).whenComplete((c, error) -> {
                    if (error != null) {
                        sink.error(unwrap(error));
                        return;
                    }
                    ReplyParser.Reply reply = p.tools() ? replyParser.parse(c.result().text())
                            : new ReplyParser.Reply("", List.of());
                    sink.next(response(reply.content(), reply.toolCalls(), c, p, id));
                    sink.complete();
                });
            }, FluxSink.OverflowStrategy.BUFFER)
                    // subscribers never run on the engine's worker, which decodes every request
                    .publishOn(Schedulers.boundedElastic())
                    .doOnError(observation::error)
                    .doFinally(s -> observation.stop())
                    .contextWrite(ctx -> ctx.put(ObservationThreadLocalAccessor.KEY, observation));
            return new MessageAggregator().aggregate(chunks, context::setResponse);
        });
    }

    private ChatResponse chunk(String id, String delta) {
        return new ChatResponse(List.of(new Generation(AssistantMessage.builder().content(delta).build())),
                ChatResponseMetadata.builder().id(id).model(modelName).build());
    }

    private ChatResponse response(String content, List<AssistantMessage.ToolCall> toolCalls, Completion c, Prepared p) {
        return response(content, toolCalls, c, p, UUID.randomUUID().toString());
    }

    private ChatResponse response(String content, List<AssistantMessage.ToolCall> toolCalls, Completion c, Prepared p,
                                  String id) {
        String finish = !toolCalls.isEmpty() ? TOOL_CALLS
                : c.result().finishReason() == FinishReason.LENGTH ? LENGTH : STOP;
        AssistantMessage message = AssistantMessage.builder().content(content).toolCalls(toolCalls).build();
        ChatGenerationMetadata generation = ChatGenerationMetadata.builder().finishReason(finish).build();
        TokenSelectUsage usage = TokenSelectUsage.of(c);
        ChatResponseMetadata.Builder metadata = ChatResponseMetadata.builder()
                .id(id)
                .model(modelName)
                .usage(new DefaultUsage(usage.promptTokens(), usage.completionTokens(), null, usage,
                        (long) usage.cachedPrefixTokens(), null))
                .keyValue(CACHED_PREFIX_TOKENS, usage.cachedPrefixTokens())
                .keyValue(PREFILLED_TOKENS, usage.prefilledTokens())
                .keyValue(TIME_TO_FIRST_TOKEN_MS, usage.timeToFirstTokenMillis())
                .keyValue(DECODE_TOKENS_PER_SECOND, usage.decodeTokensPerSecond())
                .keyValue(ATTENTION, c.result().stats().attention());
        if (p.corpus() != null) {
            metadata.keyValue(CORPUS, p.corpus());
        }
        return new ChatResponse(List.of(new Generation(message, generation)), metadata.build());
    }

    private static Completion await(CompletableFuture<Completion> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the reply", e);
        } catch (ExecutionException e) {
            throw unwrap(e);
        }
    }

    private static RuntimeException unwrap(Throwable t) {
        Throwable cause = (t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null
                ? t.getCause() : t;
        return cause instanceof RuntimeException re ? re : new IllegalStateException(cause.getMessage(), cause);
    }

    public static final class Builder {
        private InferenceService service;
        private TokenSelectChatOptions defaultOptions;
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;
        private ReplyParser replyParser;

        private Builder() {
        }

        public Builder service(InferenceService service) {
            this.service = service;
            return this;
        }

        public Builder defaultOptions(TokenSelectChatOptions options) {
            this.defaultOptions = options;
            return this;
        }

        public Builder observationRegistry(ObservationRegistry registry) {
            this.observationRegistry = Objects.requireNonNull(registry, "observationRegistry");
            return this;
        }

        Builder replyParser(ReplyParser parser) {
            this.replyParser = parser;
            return this;
        }

        public TokenSelectChatModel build() {
            return new TokenSelectChatModel(this);
        }
    }
}
