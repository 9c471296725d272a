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
import dev.tokenselect.engine.chat.ParsedReply;
import dev.tokenselect.engine.chat.ToolCallParser;
import dev.tokenselect.engine.chat.ToolCallStreamSplitter;
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
    private final ToolCallParser toolCallParser;
    private final ReplySource replies;
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
        this.toolCallParser = ToolCallParser.forFormat(chatFormat);
        this.replies = b.replies != null ? b.replies : service::submit;
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

    /** Produces a reply: the service's queue, or a stand-in in tests. */
    @FunctionalInterface
    interface ReplySource {
        CompletableFuture<Completion> submit(InferenceRequest request, TokenListener listener);
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
        return new Prepared(new InferenceRequest(tokens, o.getCorpus(), attention, sampling, o.getCacheSalt()), tools != null,
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
                    Completion c = await(replies.submit(p.request(), TokenListener.NONE));
                    ParsedReply reply = p.tools() ? toolCallParser.parse(c.result().text())
                            : new ParsedReply(c.result().text(), List.of());
                    ChatResponse response = response(reply.content(), MessageMaps.toolCalls(reply.toolCalls()), c, p);
                    context.setResponse(response);
                    return response;
                });
    }

    /**
     * The reply as it is generated: one chunk per text delta (never a split character or stop string), then a last
     * chunk with the finish reason and usage (and, with tools, the tool calls). Text that may be tool-call markup is
     * held back until it is known not to be. Cancelling the subscription ends the generation.
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
                // one splitter per reply; the listener runs on the engine's worker, one call at a time
                ToolCallStreamSplitter splitter = new ToolCallStreamSplitter(toolCallParser);
                TokenListener listener = new TokenListener() {
                    @Override
                    public void onText(String delta) {
                        String shown = p.tools() ? splitter.accept(delta) : delta;
                        if (!shown.isEmpty()) {
                            sink.next(chunk(id, shown));
                        }
                    }

                    @Override
                    public void onToken(int tokenId) {
                        if (cancelled.get()) { // ends this request in the engine's queue, no other
                            throw new CancellationException("the stream was cancelled");
                        }
                    }
                };
                replies.submit(p.request(), listener).whenComplete((c, error) -> {
                    if (error != null) {
                        if (!cancelled.get()) { // a cancelled stream has no one left to tell
                            sink.error(unwrap(error));
                        }
                        return;
                    }
                    ParsedReply rest = p.tools() ? splitter.finish() : new ParsedReply("", List.of());
                    sink.next(response(rest.content(), MessageMaps.toolCalls(rest.toolCalls()), c, p, id));
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
        private ReplySource replies;

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

        /** Where replies come from instead of the service (tests script a model's words with it). */
        Builder replies(ReplySource replies) {
            this.replies = replies;
            return this;
        }

        public TokenSelectChatModel build() {
            return new TokenSelectChatModel(this);
        }
    }
}
