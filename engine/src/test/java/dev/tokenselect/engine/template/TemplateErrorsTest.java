package dev.tokenselect.engine.template;

import static dev.tokenselect.engine.template.TemplateTestSupport.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Errors fail loudly with the template position; reasons carry the same Python/Jinja2 message transformers would show.
 */
class TemplateErrorsTest {

    private static TemplateException compileFails(String template) {
        return assertThrows(TemplateException.class, () -> ChatTemplate.compile(template));
    }

    @Test
    void raiseExceptionCarriesTheMessageAndPosition() {
        TemplateException e = assertFails("{% if messages[0]['role'] != 'user' %}\n"
                + "  {{- raise_exception('Bad role: ' ~ messages[0]['role']) }}\n{% endif %}",
                "{\"messages\": [{\"role\": \"tool\"}]}");
        assertEquals("Bad role: tool", e.reason());
        assertEquals(2, e.line());
        assertEquals(7, e.column());
        assertEquals("chat template line 2, column 7: Bad role: tool", e.getMessage());
    }

    @Test
    void raiseExceptionFromARealMistralTemplate() {
        ChatTemplate mistral = ChatTemplate.compile("{{ bos_token }}{% for message in messages %}"
                + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
                + "{% endif %}{{ message['content'] }}{% endfor %}", Map.of("bos_token", "<s>"));
        TemplateException e = assertThrows(TemplateException.class, () -> mistral.render(
                List.of(Map.of("role", "assistant", "content", "x")), true, null, Map.of()));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.reason());
    }

    @Test
    void undefinedMisuseNamesWhatIsMissing() {
        assertEquals("UndefinedError: 'x' is undefined", assertFails("{{ x.y }}").reason());
        assertEquals("UndefinedError: 'x' is undefined", assertFails("{{ x + 1 }}").reason());
        assertEquals("UndefinedError: 'x' is undefined", assertFails("{{ x() }}").reason());
        assertEquals("UndefinedError: 'dict object' has no attribute 'missing'",
                assertFails("{{ d.missing.deeper }}", "{\"d\": {\"a\": 1}}").reason());
        assertEquals("UndefinedError: 'None' has no attribute 'startswith'",
                assertFails("{{ n.startswith('a') }}", "{\"n\": null}").reason());
        assertEquals("UndefinedError: list object has no element 10",
                assertFails("{{ l[10] + 1 }}", "{\"l\": [1]}").reason());
    }

    @Test
    void pythonTypeErrors() {
        TemplateException concat = assertFails("{{ 'a' + 1 }}");
        assertEquals("TypeError: can only concatenate str (not \"int\") to str", concat.reason());
        assertEquals(1, concat.line());
        assertEquals(8, concat.column());
        assertEquals("TypeError: '<' not supported between instances of 'int' and 'str'",
                assertFails("{{ 1 < 'a' }}").reason());
        assertEquals("TypeError: 'in <string>' requires string as left operand, not int",
                assertFails("{{ 1 in 'abc' }}").reason());
        assertEquals("TypeError: 'NoneType' object is not iterable",
                assertFails("{% for a in none %}{% endfor %}").reason());
        assertEquals("ValueError: too many values to unpack (expected 2)",
                assertFails("{% for a, b in [(1,2,3)] %}{% endfor %}").reason());
        assertEquals("TypeError: sequence item 0: expected str instance, int found",
                assertFails("{{ ','.join([1,2]) }}").reason());
        assertEquals("ZeroDivisionError: division by zero", assertFails("{{ 1 / 0 }}").reason());
        assertEquals("TypeError: Object of type Undefined is not JSON serializable",
                assertFails("{{ x|tojson }}").reason());
    }

    @Test
    void sandboxBlocksMutation() {
        assertEquals("SecurityError: access to attribute 'append' of 'list' object is unsafe.",
                assertFails("{{ l.append(1) }}", "{\"l\": []}").reason());
        assertEquals("SecurityError: access to attribute 'update' of 'dict' object is unsafe.",
                assertFails("{{ d.update({'a': 1}) }}", "{\"d\": {}}").reason());
        assertEquals("TemplateRuntimeError: cannot assign attribute on non-namespace object",
                assertFails("{% set x = 1 %}{% set x.a = 2 %}").reason());
        assertEquals("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
                assertFails("{{ range(200000)|list|length }}").reason());
    }

    @Test
    void syntaxErrorsPointAtTheProblem() {
        TemplateException unclosed = compileFails("line one\n{% if x %}\nbody");
        assertTrue(unclosed.reason().startsWith("Unexpected end of template. Jinja was looking for the following "
                + "tags: 'elif' or 'else' or 'endif'."), unclosed.reason());
        assertEquals(3, unclosed.line());
        assertEquals("Encountered unknown tag 'endif'.", compileFails("{% endif %}").reason());
        assertEquals("Encountered unknown tag 'do'.", compileFails("{% do x %}").reason());
        assertEquals("Expected an expression, got 'end of statement block'",
                compileFails("{% for x in %}{% endfor %}").reason());
        assertEquals("unexpected '}', expected ')'", compileFails("{{ (1 }}").reason());
        assertEquals("Missing end of comment tag", compileFails("{# unterminated comment").reason());
        assertEquals("'break' outside of a for loop", compileFails("{% break %}").reason());
        TemplateException string = compileFails("ok\n  {{ 'unterminated }}");
        assertEquals(2, string.line());
        assertEquals(6, string.column());
    }

    @Test
    void runtimeErrorInsideAMacroPointsIntoTheMacro() {
        TemplateException e = assertFails("{% macro m(x) %}\n{{ x + 1 }}\n{% endmacro %}{{ m('a') }}");
        assertEquals(2, e.line());
        assertEquals("TypeError: can only concatenate str (not \"int\") to str", e.reason());
    }
}
