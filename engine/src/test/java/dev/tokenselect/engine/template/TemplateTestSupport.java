package dev.tokenselect.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * Helpers for template tests. Variables are given as JSON so that dict order and int/float types are exactly what a
 * Python caller would pass. Expected strings were produced by Jinja2 3.1.6 configured as transformers configures it
 * (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson).
 */
final class TemplateTestSupport {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private TemplateTestSupport() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> variables(String json) {
        return (Map<String, Object>) ChatTemplate.fromJson(JSON.readTree(json));
    }

    static String render(String template, String jsonVariables) {
        return ChatTemplate.compile(template).render(variables(jsonVariables));
    }

    static void assertRenders(String expected, String template) {
        assertRenders(expected, template, "{}");
    }

    static void assertRenders(String expected, String template, String jsonVariables) {
        assertEquals(expected, render(template, jsonVariables), () -> "template: " + template);
    }

    static TemplateException assertFails(String template) {
        return assertFails(template, "{}");
    }

    static TemplateException assertFails(String template, String jsonVariables) {
        return assertThrows(TemplateException.class, () -> render(template, jsonVariables),
                () -> "expected an error from: " + template);
    }
}
