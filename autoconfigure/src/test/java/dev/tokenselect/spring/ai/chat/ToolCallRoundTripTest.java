package dev.tokenselect.spring.ai.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.support.ToolCallbacks;
import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.chat.ToolCall;
import dev.tokenselect.engine.chat.ToolMessages;
import dev.tokenselect.engine.generate.FinishReason;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.serve.Completion;
import dev.tokenselect.engine.serve.InferenceRequest;
import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.engine.tokenizer.IncrementalDetokenizer;
import dev.tokenselect.engine.tokenizer.Tokenizer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A tool call's round trip through {@code ChatClient} with the real Qwen3 chat template and tokenizer: the tools
 * rendered into the prompt, the call parsed from the reply, the {@link Tool} method run by ChatClient's loop, the
 * call and its result rendered back into the next prompt.
 *
 * <p>No checkpoint small enough to ship here writes tool calls, so the model's words are the one scripted part: each
 * request still goes through the real engine (a random-weight Qwen3 prefills the real prompt tokens), and then a
 * scripted reply is fed token by token through the same listener and result path a generated one takes.
 */
class ToolCallRoundTripTest {

    static final String CALL = "Let me check.\n<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
    static final String ANSWER = "It is 22 degrees and sunny in Paris.";

    @TempDir
    static Path dir;
    static Engine engine;
    static InferenceService service;
    static Tokenizer tokenizer;
    static ChatFormat format;

    final List<int[]> prompts = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void open() throws Exception {
        ObjectNode config = Presets.tinyQwen3(151936);
        ObjectNode gen = JsonMapper.builder().build().createObjectNode();
        gen.putArray("eos_token_id").add(151645);
        Path model = dir.resolve("qwen3-tools");
        SyntheticModelWriter.write(model, config, gen, 11, DType.BF16, 1,
                Path.of("../engine/src/test/resources/tokenizers/qwen3").toAbsolutePath());
        engine = Engine.open(model, new EngineOptions("cpu", 0, 2, 8192, 16));
        service = new InferenceService(engine, null, InferenceService.Options.defaults());
        tokenizer = engine.tokenizer();
        format = ChatFormat.of(tokenizer);
    }

    @AfterAll
    static void close() {
        service.close();
        engine.close();
    }

    /** The weather tool that ChatClient runs. */
    static final class Weather {
        final List<String> cities = Collections.synchronizedList(new ArrayList<>());

        @Tool(description = "The current weather in a city")
        String weather(@ToolParam(description = "the city") String city) {
            cities.add(city);
            return "22 degrees and sunny in " + city;
        }
    }

    /**
     * Runs each request's real prompt through the engine, then stands in for the model's words: the call first,
     * the answer once the prompt holds a tool response.
     */
    private TokenSelectChatModel.ReplySource scripted() {
        return (request, listener) -> {
            prompts.add(request.prompt().clone());
            String script = tokenizer.decode(request.prompt(), false).contains("<tool_response>") ? ANSWER : CALL;
            InferenceRequest oneToken = new InferenceRequest(request.prompt(), request.corpus(), request.attention(),
                    request.params().toBuilder().maxTokens(1).build(), request.salt());
            return service.submit(oneToken, TokenListener.NONE).thenApply(real -> {
                int[] ids = tokenizer.encode(script, false);
                IncrementalDetokenizer text = tokenizer.newIncrementalDetokenizer(true);
                for (int id : ids) {
                    listener.onToken(id);
                    String delta = text.accept(id);
                    if (!delta.isEmpty()) {
                        listener.onText(delta);
                    }
                }
                String tail = text.flush();
                if (!tail.isEmpty()) {
                    listener.onText(tail);
                }
                GenerationResult said = new GenerationResult(ids, script, FinishReason.EOS, real.result().stats());
                return new Completion(said, real.promptTokens(), real.cachedPrefixTokens(), real.prefilledTokens(), null);
            });
        };
    }

    private TokenSelectChatModel model() {
        return TokenSelectChatModel.builder().service(service).replies(scripted()).build();
    }

    private static Map<String, Object> user(String text) {
        return Map.of("role", "user", "content", text);
    }

    @Test
    void theModelReturnsTheCallsItWroteAsToolCallsWithTheirFinishReason() {
        Weather weather = new Weather();
        Prompt prompt = new Prompt("What is the weather in Paris?", TokenSelectChatOptions.builder()
                .toolCallbacks(ToolCallbacks.from(weather)).build());
        ChatResponse r = model().call(prompt);
        AssistantMessage out = r.getResult().getOutput();
        assertThat(out.getToolCalls()).hasSize(1);
        assertThat(out.getToolCalls().get(0).name()).isEqualTo("weather");
        assertThat(out.getToolCalls().get(0).arguments()).isEqualToIgnoringWhitespace("{\"city\":\"Paris\"}");
        assertThat(out.getToolCalls().get(0).type()).isEqualTo("function");
        assertThat(out.getText()).isEqualTo("Let me check.");
        assertThat(r.getResult().getMetadata().getFinishReason()).isEqualTo(TokenSelectChatModel.TOOL_CALLS);
        // the prompt carried the tool as the Qwen3 template renders it
        String schema = ToolCallbacks.from(weather)[0].getToolDefinition().inputSchema();
        String expected = format.render(List.of(user("What is the weather in Paris?")),
                List.of(ToolMessages.toolDefinition("weather", "The current weather in a city", schema)), true, Map.of());
        assertThat(tokenizer.decode(prompts.get(0), false)).isEqualTo(expected).contains("<tools>")
                .contains("\"name\": \"weather\"");
        assertThat(weather.cities).isEmpty(); // the model only asks; ChatClient runs tools
    }

    @Test
    void chatClientRunsTheToolAndTheResultGoesBackThroughTheTemplate() {
        Weather weather = new Weather();
        ChatClient client = ChatClient.create(model());
        ChatResponse r = client.prompt().user("What is the weather in Paris?").tools(weather).call().chatResponse();
        assertThat(r.getResult().getOutput().getText()).isEqualTo(ANSWER);
        assertThat(r.getResult().getMetadata().getFinishReason()).isEqualTo(TokenSelectChatModel.STOP);
        assertThat(weather.cities).containsExactly("Paris");
        assertThat(prompts).hasSize(2);

        String second = tokenizer.decode(prompts.get(1), false);
        assertThat(second).contains("<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>")
                .contains("<tool_response>\n22 degrees and sunny in Paris\n</tool_response>")
                .endsWith("<|im_start|>assistant\n");
        // exactly what the template makes of the conversation built from the engine's own message helpers
        String schema = ToolCallbacks.from(weather)[0].getToolDefinition().inputSchema();
        String expected = format.render(List.of(user("What is the weather in Paris?"),
                        ToolMessages.assistantWithToolCalls("Let me check.",
                                List.of(new ToolCall("call_0", "weather", "{\"city\": \"Paris\"}"))),
                        ToolMessages.toolResult("call_0", "weather", "22 degrees and sunny in Paris")),
                List.of(ToolMessages.toolDefinition("weather", "The current weather in a city", schema)), true, Map.of());
        assertThat(second).isEqualTo(expected);
    }

    @Test
    void aStreamNeverShowsCallMarkupAndEndsWithTheCalls() {
        Weather weather = new Weather();
        Prompt prompt = new Prompt("What is the weather in Paris?", TokenSelectChatOptions.builder()
                .toolCallbacks(ToolCallbacks.from(weather)).build());
        List<ChatResponse> chunks = model().stream(prompt).collectList().block(Duration.ofSeconds(60));
        StringBuilder shown = new StringBuilder();
        List<AssistantMessage.ToolCall> calls = new ArrayList<>();
        for (ChatResponse c : chunks) {
            shown.append(c.getResult().getOutput().getText());
            calls.addAll(c.getResult().getOutput().getToolCalls());
        }
        assertThat(shown.toString()).doesNotContain("<tool_call>").doesNotContain("\"arguments\"").startsWith("Let me check.");
        assertThat(calls).extracting(AssistantMessage.ToolCall::name).containsExactly("weather");
        assertThat(chunks.get(chunks.size() - 1).getResult().getMetadata().getFinishReason())
                .isEqualTo(TokenSelectChatModel.TOOL_CALLS);

        // through ChatClient the stream runs the tool and streams on: the words before the call, then the answer
        String answer = String.join("", ChatClient.create(model()).prompt().user("What is the weather in Paris?")
                .tools(weather).stream().content().collectList().block(Duration.ofSeconds(60)));
        assertThat(answer).isEqualTo("Let me check.\n" + ANSWER);
        assertThat(weather.cities).containsExactly("Paris");
    }
}
