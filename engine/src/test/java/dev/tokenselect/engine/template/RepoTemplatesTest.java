package dev.tokenselect.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The chat templates shipped in the repository's tokenizer configs, driven through the public API. */
class RepoTemplatesTest {

    private static ChatTemplate load(String model) throws IOException {
        return ChatTemplate.fromTokenizerConfig(
                ChatTemplateFixturesTest.readResource("/tokenizers/" + model + "/tokenizer_config.json"));
    }

    private static final List<Map<String, Object>> HI = List.of(Map.of("role", "user", "content", "Hi"));

    @Test
    void qwen3SingleUserTurn() throws IOException {
        ChatTemplate qwen3 = load("qwen3");
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", qwen3.render(HI, true, null, Map.of()));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
                qwen3.render(HI, true, null, Map.of("enable_thinking", false)));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n", qwen3.render(HI, false, null, null));
    }

    @Test
    void qwen3HasNoBosTokenSoItIsUndefinedNotNone() throws IOException {
        ChatTemplate qwen3 = load("qwen3");
        // tokenizer_config.json has "bos_token": null; transformers leaves it out of the template variables.
        assertFalse(qwen3.specialTokens().containsKey("bos_token"));
        assertEquals("<|im_end|>", qwen3.specialTokens().get("eos_token"));
    }

    @Test
    void qwen3ReasoningContentAndConsecutiveToolResponses() throws IOException {
        ChatTemplate qwen3 = load("qwen3");
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "user", "content", "Q"),
                Map.of("role", "assistant", "content", "A", "reasoning_content", "because"),
                Map.of("role", "user", "content", "<tool_response>x</tool_response>"));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nbecause\n</think>\n\nA"
                + "<|im_end|>\n<|im_start|>user\n<tool_response>x</tool_response><|im_end|>\n",
                qwen3.render(messages, false, null, Map.of()));
    }

    @Test
    void llamaConfigInTheRepoCarriesTheLlama3StyleTemplate() throws IOException {
        // NB: this tokenizer_config.json holds the short Llama-3 template (no "Cutting Knowledge Date" system
        // block); transformers renders it exactly like this (see fixtures/chat_template/llama3_1.json).
        ChatTemplate llama = load("llama3_1");
        assertEquals("<|begin_of_text|>", llama.specialTokens().get("bos_token"));
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", llama.render(HI, true, null, Map.of()));
    }

    @Test
    void officialLlama31TemplateWithOneUserMessage() {
        ChatTemplate llama31 = ChatTemplate.compile(ReferenceTemplates.LLAMA3_1,
                Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>"));
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: "
                + "December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", llama31.render(HI, true, null,
                Map.of()));
    }

    @Test
    void reservedVariablesCannotBeOverriddenThroughExtras() throws IOException {
        ChatTemplate qwen3 = load("qwen3");
        assertThrows(IllegalArgumentException.class, () -> qwen3.render(HI, true, null, Map.of("messages", List.of())));
    }

    @Test
    void namedTemplateListsPickDefault() {
        var config = TemplateTestSupport.JSON.readTree("""
                {"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>",
                 "chat_template": [{"name": "default", "template": "{{ bos_token }}D{{ eos_token }}"},
                                   {"name": "tool_use", "template": "T{{ tools|length }}"}]}""");
        assertEquals("<s>D</s>", ChatTemplate.fromTokenizerConfig(config).render(HI, true, null, Map.of()));
        assertEquals("T1", ChatTemplate.fromTokenizerConfig(config, "tool_use").render(HI, true,
                List.of(Map.of("type", "function")), Map.of()));
    }
}
