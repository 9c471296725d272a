package dev.tokenselect.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Renders {@link ReferenceTemplates} (and the repository's own templates) over {@link ReferenceTemplates#SCENARIOS}
 * and compares with Jinja2 3.1.6 set up exactly as transformers sets it up, with {@code bos_token="<s>"},
 * {@code eos_token="</s>"} and strftime_now's clock at 2024-03-05 14:07:09. An expected value starting with '!' is
 * the reason of the error the template must raise.
 */
class ReferenceTemplatesTest {

    private static final Clock CLOCK = Clock.fixed(LocalDateTime.of(2024, 3, 5, 14, 7, 9).toInstant(ZoneOffset.UTC),
            ZoneOffset.UTC);

    record Case(String template, String scenario, String expected) {
        @Override
        public String toString() {
            return template + " / " + scenario;
        }
    }

    private static Case c(String template, String scenario, String expected) {
        return new Case(template, scenario, expected);
    }

    static Stream<Case> cases() {
        return Stream.of(
                c("llama3_1_official", "single",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 26 Jul 2024\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_1_official", "system_multi",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 26 Jul 2024\n"
                        + "\n"
                        + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Q1 ☀️<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "A1<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Q2 한국어\n"
                        + "  code<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_1_official", "tools",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Environment: ipython\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 26 Jul 2024\n"
                        + "\n"
                        + "Sys<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n"
                        + "\n"
                        + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n"
                        + "\n"
                        + "{\n"
                        + "    \"type\": \"function\",\n"
                        + "    \"function\": {\n"
                        + "        \"name\": \"get_weather\",\n"
                        + "        \"description\": \"Get the current weather for a city.\",\n"
                        + "        \"parameters\": {\n"
                        + "            \"type\": \"object\",\n"
                        + "            \"properties\": {\n"
                        + "                \"city\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"description\": \"City name, e.g. Seoul\"\n"
                        + "                },\n"
                        + "                \"unit\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"enum\": [\n"
                        + "                        \"celsius\",\n"
                        + "                        \"fahrenheit\"\n"
                        + "                    ]\n"
                        + "                },\n"
                        + "                \"days\": {\n"
                        + "                    \"type\": \"integer\",\n"
                        + "                    \"description\": \"  Forecast days  \"\n"
                        + "                },\n"
                        + "                \"tags\": {\n"
                        + "                    \"type\": \"array\",\n"
                        + "                    \"items\": {\n"
                        + "                        \"type\": \"string\"\n"
                        + "                    },\n"
                        + "                    \"description\": \"tags\"\n"
                        + "                },\n"
                        + "                \"x\": {\n"
                        + "                    \"type\": [\n"
                        + "                        \"string\",\n"
                        + "                        \"number\"\n"
                        + "                    ],\n"
                        + "                    \"description\": \"either\"\n"
                        + "                }\n"
                        + "            },\n"
                        + "            \"required\": [\n"
                        + "                \"city\"\n"
                        + "            ]\n"
                        + "        }\n"
                        + "    }\n"
                        + "}\n"
                        + "\n"
                        + "Weather in Seoul?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\", \"unit\": \"celsius\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n"
                        + "\n"
                        + "\"{\\\"temperature\\\": 21}\"<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Thanks<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_1_official", "tool_string_args",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Environment: ipython\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 26 Jul 2024\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n"
                        + "\n"
                        + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n"
                        + "\n"
                        + "{\n"
                        + "    \"type\": \"function\",\n"
                        + "    \"function\": {\n"
                        + "        \"name\": \"get_weather\",\n"
                        + "        \"description\": \"Get the current weather for a city.\",\n"
                        + "        \"parameters\": {\n"
                        + "            \"type\": \"object\",\n"
                        + "            \"properties\": {\n"
                        + "                \"city\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"description\": \"City name, e.g. Seoul\"\n"
                        + "                },\n"
                        + "                \"unit\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"enum\": [\n"
                        + "                        \"celsius\",\n"
                        + "                        \"fahrenheit\"\n"
                        + "                    ]\n"
                        + "                },\n"
                        + "                \"days\": {\n"
                        + "                    \"type\": \"integer\",\n"
                        + "                    \"description\": \"  Forecast days  \"\n"
                        + "                },\n"
                        + "                \"tags\": {\n"
                        + "                    \"type\": \"array\",\n"
                        + "                    \"items\": {\n"
                        + "                        \"type\": \"string\"\n"
                        + "                    },\n"
                        + "                    \"description\": \"tags\"\n"
                        + "                },\n"
                        + "                \"x\": {\n"
                        + "                    \"type\": [\n"
                        + "                        \"string\",\n"
                        + "                        \"number\"\n"
                        + "                    ],\n"
                        + "                    \"description\": \"either\"\n"
                        + "                }\n"
                        + "            },\n"
                        + "            \"required\": [\n"
                        + "                \"city\"\n"
                        + "            ]\n"
                        + "        }\n"
                        + "    }\n"
                        + "}\n"
                        + "\n"
                        + "Go<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "{\"name\": \"get_weather\", \"parameters\": \"{\\\"city\\\": \\\"Paris\\\"}\"}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n"
                        + "\n"
                        + "\"sunny\"<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n"
                        + "\n"
                        + "\"warm\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_1_official", "date_string",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Environment: ipython\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 01 Jan 2025\n"
                        + "\n"
                        + "You have access to the following functions. To call a function, please respond with JSON for a function call.Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n"
                        + "\n"
                        + "{\n"
                        + "    \"type\": \"function\",\n"
                        + "    \"function\": {\n"
                        + "        \"name\": \"get_weather\",\n"
                        + "        \"description\": \"Get the current weather for a city.\",\n"
                        + "        \"parameters\": {\n"
                        + "            \"type\": \"object\",\n"
                        + "            \"properties\": {\n"
                        + "                \"city\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"description\": \"City name, e.g. Seoul\"\n"
                        + "                },\n"
                        + "                \"unit\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"enum\": [\n"
                        + "                        \"celsius\",\n"
                        + "                        \"fahrenheit\"\n"
                        + "                    ]\n"
                        + "                },\n"
                        + "                \"days\": {\n"
                        + "                    \"type\": \"integer\",\n"
                        + "                    \"description\": \"  Forecast days  \"\n"
                        + "                },\n"
                        + "                \"tags\": {\n"
                        + "                    \"type\": \"array\",\n"
                        + "                    \"items\": {\n"
                        + "                        \"type\": \"string\"\n"
                        + "                    },\n"
                        + "                    \"description\": \"tags\"\n"
                        + "                },\n"
                        + "                \"x\": {\n"
                        + "                    \"type\": [\n"
                        + "                        \"string\",\n"
                        + "                        \"number\"\n"
                        + "                    ],\n"
                        + "                    \"description\": \"either\"\n"
                        + "                }\n"
                        + "            },\n"
                        + "            \"required\": [\n"
                        + "                \"city\"\n"
                        + "            ]\n"
                        + "        }\n"
                        + "    }\n"
                        + "}\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_1_official", "builtin",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Environment: ipython\n"
                        + "Tools: brave_search, wolfram_alpha\n"
                        + "\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 26 Jul 2024\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Search<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "<|python_tag|>brave_search.call(query=\"x\")<|eom_id|><|start_header_id|>ipython<|end_header_id|>\n"
                        + "\n"
                        + "{\"results\": [1, 2]}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_2", "single",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 05 Mar 2024\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_2", "tools",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Environment: ipython\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 05 Mar 2024\n"
                        + "\n"
                        + "Sys<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n"
                        + "\n"
                        + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n"
                        + "\n"
                        + "{\n"
                        + "    \"type\": \"function\",\n"
                        + "    \"function\": {\n"
                        + "        \"name\": \"get_weather\",\n"
                        + "        \"description\": \"Get the current weather for a city.\",\n"
                        + "        \"parameters\": {\n"
                        + "            \"type\": \"object\",\n"
                        + "            \"properties\": {\n"
                        + "                \"city\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"description\": \"City name, e.g. Seoul\"\n"
                        + "                },\n"
                        + "                \"unit\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"enum\": [\n"
                        + "                        \"celsius\",\n"
                        + "                        \"fahrenheit\"\n"
                        + "                    ]\n"
                        + "                },\n"
                        + "                \"days\": {\n"
                        + "                    \"type\": \"integer\",\n"
                        + "                    \"description\": \"  Forecast days  \"\n"
                        + "                },\n"
                        + "                \"tags\": {\n"
                        + "                    \"type\": \"array\",\n"
                        + "                    \"items\": {\n"
                        + "                        \"type\": \"string\"\n"
                        + "                    },\n"
                        + "                    \"description\": \"tags\"\n"
                        + "                },\n"
                        + "                \"x\": {\n"
                        + "                    \"type\": [\n"
                        + "                        \"string\",\n"
                        + "                        \"number\"\n"
                        + "                    ],\n"
                        + "                    \"description\": \"either\"\n"
                        + "                }\n"
                        + "            },\n"
                        + "            \"required\": [\n"
                        + "                \"city\"\n"
                        + "            ]\n"
                        + "        }\n"
                        + "    }\n"
                        + "}\n"
                        + "\n"
                        + "Weather in Seoul?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\", \"unit\": \"celsius\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n"
                        + "\n"
                        + "\"{\\\"temperature\\\": 21}\"<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Thanks<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("llama3_2", "date_string",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Environment: ipython\n"
                        + "Cutting Knowledge Date: December 2023\n"
                        + "Today Date: 01 Jan 2025\n"
                        + "\n"
                        + "You have access to the following functions. To call a function, please respond with JSON for a function call.Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.Do not use variables.\n"
                        + "\n"
                        + "{\n"
                        + "    \"type\": \"function\",\n"
                        + "    \"function\": {\n"
                        + "        \"name\": \"get_weather\",\n"
                        + "        \"description\": \"Get the current weather for a city.\",\n"
                        + "        \"parameters\": {\n"
                        + "            \"type\": \"object\",\n"
                        + "            \"properties\": {\n"
                        + "                \"city\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"description\": \"City name, e.g. Seoul\"\n"
                        + "                },\n"
                        + "                \"unit\": {\n"
                        + "                    \"type\": \"string\",\n"
                        + "                    \"enum\": [\n"
                        + "                        \"celsius\",\n"
                        + "                        \"fahrenheit\"\n"
                        + "                    ]\n"
                        + "                },\n"
                        + "                \"days\": {\n"
                        + "                    \"type\": \"integer\",\n"
                        + "                    \"description\": \"  Forecast days  \"\n"
                        + "                },\n"
                        + "                \"tags\": {\n"
                        + "                    \"type\": \"array\",\n"
                        + "                    \"items\": {\n"
                        + "                        \"type\": \"string\"\n"
                        + "                    },\n"
                        + "                    \"description\": \"tags\"\n"
                        + "                },\n"
                        + "                \"x\": {\n"
                        + "                    \"type\": [\n"
                        + "                        \"string\",\n"
                        + "                        \"number\"\n"
                        + "                    ],\n"
                        + "                    \"description\": \"either\"\n"
                        + "                }\n"
                        + "            },\n"
                        + "            \"required\": [\n"
                        + "                \"city\"\n"
                        + "            ]\n"
                        + "        }\n"
                        + "    }\n"
                        + "}\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("qwen2_5", "single",
                        "<|im_start|>system\n"
                        + "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Hi<|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("qwen2_5", "system_multi",
                        "<|im_start|>system\n"
                        + "  Be brief.  <|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Q1 ☀️<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "A1<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Q2 한국어\n"
                        + "  code  <|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("qwen2_5", "tools",
                        "<|im_start|>system\n"
                        + "Sys\n"
                        + "\n"
                        + "# Tools\n"
                        + "\n"
                        + "You may call one or more functions to assist with the user query.\n"
                        + "\n"
                        + "You are provided with function signatures within <tools></tools> XML tags:\n"
                        + "<tools>\n"
                        + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather for a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}}}\n"
                        + "</tools>\n"
                        + "\n"
                        + "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
                        + "<tool_call>\n"
                        + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Weather in Seoul?<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<tool_call>\n"
                        + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\", \"unit\": \"celsius\"}}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "<tool_response>\n"
                        + "{\"temperature\": 21}\n"
                        + "</tool_response><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Thanks<|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("qwen2_5", "tool_string_args",
                        "<|im_start|>system\n"
                        + "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n"
                        + "\n"
                        + "# Tools\n"
                        + "\n"
                        + "You may call one or more functions to assist with the user query.\n"
                        + "\n"
                        + "You are provided with function signatures within <tools></tools> XML tags:\n"
                        + "<tools>\n"
                        + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather for a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}}}\n"
                        + "</tools>\n"
                        + "\n"
                        + "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
                        + "<tool_call>\n"
                        + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Go<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<tool_call>\n"
                        + "{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "<tool_response>\n"
                        + "sunny\n"
                        + "</tool_response>\n"
                        + "<tool_response>\n"
                        + "warm\n"
                        + "</tool_response><|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("mistral_v0_1", "single",
                        "<s>[INST] Hi [/INST]"),
                c("mistral_v0_1", "alternating_no_prompt",
                        "<s>[INST] Q1 [/INST] A1 </s> [INST] Q2 [/INST]A2</s> "),
                c("mistral_v0_1", "bad_roles",
                        "!Conversation roles must alternate user/assistant/user/assistant/..."),
                c("mistral_v0_3", "system_multi",
                        "<s> [INST]   Be brief.  \n"
                        + "\n"
                        + "Q1 ☀️ [/INST] A1</s> [INST] Q2 한국어\n"
                        + "  code   [/INST]"),
                c("mistral_v0_3", "alternating_no_prompt",
                        "<s> [INST] Q1 [/INST]  A1 </s> [INST] Q2 [/INST] A2</s>"),
                c("mistral_v0_3", "tools",
                        "!After the optional system message, conversation roles must alternate user/assistant/user/assistant/..."),
                c("mistral_tools", "tool_string_args",
                        "<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather for a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}}}][/AVAILABLE_TOOLS][INST] Go[/INST][TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\", \"id\": \"abc123def\"}]</s>[TOOL_RESULTS] {\"content\": sunny, \"call_id\": \"abc123def\"}[/TOOL_RESULTS][TOOL_RESULTS] {\"content\": warm, \"call_id\": \"abc123def\"}[/TOOL_RESULTS]"),
                c("mistral_tools", "date_string",
                        "<s>[AVAILABLE_TOOLS] [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather for a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}}}][/AVAILABLE_TOOLS][INST] Hi[/INST]"),
                c("mistral_tools", "builtin",
                        "!Tool call IDs should be alphanumeric strings with length 9!"),
                c("gemma", "single",
                        "<s><start_of_turn>user\n"
                        + "Hi<end_of_turn>\n"
                        + "<start_of_turn>model\n"),
                c("gemma", "alternating_no_prompt",
                        "<s><start_of_turn>user\n"
                        + "Q1<end_of_turn>\n"
                        + "<start_of_turn>model\n"
                        + "A1<end_of_turn>\n"
                        + "<start_of_turn>user\n"
                        + "Q2<end_of_turn>\n"
                        + "<start_of_turn>model\n"
                        + "A2<end_of_turn>\n"),
                c("gemma", "system_multi",
                        "!System role not supported"),
                c("phi3", "system_multi",
                        "<|system|>\n"
                        + "  Be brief.  <|end|>\n"
                        + "<|user|>\n"
                        + "Q1 ☀️<|end|>\n"
                        + "<|assistant|>\n"
                        + "A1<|end|>\n"
                        + "<|user|>\n"
                        + "Q2 한국어\n"
                        + "  code  <|end|>\n"
                        + "<|assistant|>\n"),
                c("phi3", "alternating_no_prompt",
                        "<|user|>\n"
                        + "Q1<|end|>\n"
                        + "<|assistant|>\n"
                        + " A1 <|end|>\n"
                        + "<|user|>\n"
                        + "Q2<|end|>\n"
                        + "<|assistant|>\n"
                        + "A2<|end|>\n"
                        + "</s>"),
                c("deepseek_r1", "system_multi",
                        "<s>  Be brief.  <｜User｜>Q1 ☀️<｜Assistant｜>A1<｜end▁of▁sentence｜><｜User｜>Q2 한국어\n"
                        + "  code  <｜Assistant｜><think>\n"),
                c("deepseek_r1", "think",
                        "<s><｜User｜>2+2?<｜Assistant｜>\n"
                        + "\n"
                        + "4<｜end▁of▁sentence｜><｜User｜>3+3?<｜Assistant｜><think>\n"),
                c("deepseek_r1", "tool_string_args",
                        "<s><｜User｜>Go<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"
                        + "```json\n"
                        + "{\"city\": \"Paris\"}\n"
                        + "```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>sunny<｜tool▁output▁end｜><｜tool▁output▁begin｜>warm<｜tool▁output▁end｜><｜tool▁outputs▁end｜>"),
                c("hermes_macro", "tools",
                        "<s><|im_start|>system\n"
                        + "You are a function calling AI model. Here are the available tools: <tools> {\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"get_weather(city: str, unit: str, days: int, tags: list[str], x: Union[str,float]) - Get the current weather for a city.\n"
                        + "\n"
                        + "    Args:\n"
                        + "        city(str): City name, e.g. Seoul        unit(str):         days(int): Forecast days        tags(list[str]): tags        x(Union[str,float]): either\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}} </tools><|im_end|>\n"
                        + "<|im_start|>system\n"
                        + "Sys<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Weather in Seoul?<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<tool_call>\n"
                        + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\", \"unit\": \"celsius\"}}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>tool\n"
                        + "<tool_response>\n"
                        + "{\"temperature\": 21}\n"
                        + "</tool_response>\n"
                        + "<|im_end|><|im_start|>user\n"
                        + "Thanks<|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("hermes_macro", "tool_string_args",
                        "<s><|im_start|>system\n"
                        + "You are a function calling AI model. Here are the available tools: <tools> {\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"get_weather(city: str, unit: str, days: int, tags: list[str], x: Union[str,float]) - Get the current weather for a city.\n"
                        + "\n"
                        + "    Args:\n"
                        + "        city(str): City name, e.g. Seoul        unit(str):         days(int): Forecast days        tags(list[str]): tags        x(Union[str,float]): either\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}} </tools><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Go<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<tool_call>\n"
                        + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>tool\n"
                        + "<tool_response>\n"
                        + "sunny\n"
                        + "</tool_response>\n"
                        + "<tool_response>\n"
                        + "warm\n"
                        + "</tool_response><|im_end|><|im_start|>assistant\n"),
                c("hermes_macro", "single",
                        "!TypeError: 'NoneType' object is not iterable"),
                c("chatml_generation", "alternating_no_prompt",
                        "<|im_start|>user\n"
                        + "Q1<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + " A1 <|im_end|>\n"
                        + "\n"
                        + "<|im_start|>user\n"
                        + "Q2<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "A2<|im_end|>\n"
                        + "\n"),
                c("chatml_generation", "tools",
                        "<|im_start|>system\n"
                        + "Sys<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Weather in Seoul?<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<|im_end|>\n"
                        + "\n"
                        + "<|im_start|>tool\n"
                        + "{\"temperature\": 21}<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Thanks<|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("repo_qwen3", "system_multi",
                        "<|im_start|>system\n"
                        + "  Be brief.  <|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Q1 ☀️<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "A1<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Q2 한국어\n"
                        + "  code  <|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("repo_qwen3", "tools",
                        "<|im_start|>system\n"
                        + "Sys\n"
                        + "\n"
                        + "# Tools\n"
                        + "\n"
                        + "You may call one or more functions to assist with the user query.\n"
                        + "\n"
                        + "You are provided with function signatures within <tools></tools> XML tags:\n"
                        + "<tools>\n"
                        + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current weather for a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"City name, e.g. Seoul\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\", \"description\": \"  Forecast days  \"}, \"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, \"description\": \"tags\"}, \"x\": {\"type\": [\"string\", \"number\"], \"description\": \"either\"}}, \"required\": [\"city\"]}}}\n"
                        + "</tools>\n"
                        + "\n"
                        + "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
                        + "<tool_call>\n"
                        + "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Weather in Seoul?<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<tool_call>\n"
                        + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\", \"unit\": \"celsius\"}}\n"
                        + "</tool_call><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "<tool_response>\n"
                        + "{\"temperature\": 21}\n"
                        + "</tool_response><|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "Thanks<|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("repo_qwen3", "tool_string_args",
                        "!TypeError: argument of type 'NoneType' is not iterable"),
                c("repo_qwen3", "think",
                        "<|im_start|>user\n"
                        + "2+2?<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "4<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "3+3?<|im_end|>\n"
                        + "<|im_start|>assistant\n"),
                c("repo_qwen3", "qwen_reasoning_content",
                        "<|im_start|>user\n"
                        + "Q<|im_end|>\n"
                        + "<|im_start|>assistant\n"
                        + "<think>\n"
                        + "because\n"
                        + "</think>\n"
                        + "\n"
                        + "A<|im_end|>\n"
                        + "<|im_start|>user\n"
                        + "<tool_response>x</tool_response><|im_end|>\n"),
                c("repo_llama3_1", "system_multi",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Q1 ☀️<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "A1<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Q2 한국어\n"
                        + "  code<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"),
                c("repo_llama3_1", "tools",
                        "<s><|start_header_id|>system<|end_header_id|>\n"
                        + "\n"
                        + "Sys<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Weather in Seoul?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"
                        + "<|eot_id|><|start_header_id|>tool<|end_header_id|>\n"
                        + "\n"
                        + "{\"temperature\": 21}<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
                        + "\n"
                        + "Thanks<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
                        + "\n"));
    }

    private static String source(String name) throws IOException {
        return switch (name) {
            case "llama3_1_official" -> ReferenceTemplates.LLAMA3_1;
            case "llama3_2" -> ReferenceTemplates.LLAMA3_2;
            case "qwen2_5" -> ReferenceTemplates.QWEN2_5;
            case "mistral_v0_1" -> ReferenceTemplates.MISTRAL_V0_1;
            case "mistral_v0_3" -> ReferenceTemplates.MISTRAL_V0_3;
            case "mistral_tools" -> ReferenceTemplates.MISTRAL_TOOLS;
            case "gemma" -> ReferenceTemplates.GEMMA;
            case "phi3" -> ReferenceTemplates.PHI3;
            case "deepseek_r1" -> ReferenceTemplates.DEEPSEEK_R1;
            case "hermes_macro" -> ReferenceTemplates.HERMES_MACROS;
            case "chatml_generation" -> ReferenceTemplates.CHATML_GENERATION;
            case "repo_qwen3", "repo_llama3_1" -> ChatTemplateFixturesTest.readResource("/tokenizers/"
                    + name.substring("repo_".length()) + "/tokenizer_config.json").get("chat_template").stringValue();
            default -> throw new IllegalArgumentException(name);
        };
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersLikeJinja2(Case c) throws IOException {
        ChatTemplate template = ChatTemplate.compile(source(c.template()), Map.of("bos_token", "<s>", "eos_token",
                "</s>")).withClock(CLOCK);
        Map<String, Object> scenario = TemplateTestSupport.variables(ReferenceTemplates.SCENARIOS.get(c.scenario()));
        Map<String, Object> extra = new HashMap<>(scenario);
        List<Map<String, Object>> messages = (List<Map<String, Object>>) extra.remove("messages");
        List<Map<String, Object>> tools = (List<Map<String, Object>>) extra.remove("tools");
        boolean addGenerationPrompt = (Boolean) extra.remove("add_generation_prompt");
        if (c.expected().startsWith("!")) {
            TemplateException e = assertThrows(TemplateException.class,
                    () -> template.render(messages, addGenerationPrompt, tools, extra));
            assertEquals(c.expected().substring(1), e.reason());
        } else {
            assertEquals(c.expected(), template.render(messages, addGenerationPrompt, tools, extra));
        }
    }
}
