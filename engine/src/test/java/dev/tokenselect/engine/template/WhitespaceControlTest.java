package dev.tokenselect.engine.template;

import static dev.tokenselect.engine.template.TemplateTestSupport.assertRenders;

import org.junit.jupiter.api.Test;

/** Jinja2 whitespace handling under transformers' trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False. */
class WhitespaceControlTest {

    @Test
    void trimBlocksRemovesTheNewlineAfterABlockTag() {
        assertRenders("a\n    x\nb",
                "a\n  {% if true %}\n    x\n  {% endif %}\nb");
        assertRenders("line1\n  item 1\n  item 2\nend",
                "line1\n{% for i in [1,2] %}\n  item {{ i }}\n{% endfor %}\nend\n");
        assertRenders("a\nb\n",
                "{% for m in ['a','b'] %}{{ m }}\n{% endfor %}");
    }

    @Test
    void lstripBlocksRemovesIndentationBeforeABlockTagOnly() {
        assertRenders("  v  \ny",
                "  {{ 'v' }}  \n  {% if 1 %}y{% endif %}\n");
        assertRenders("x\n\t\ny1",
                "x\n\t {% set a = 1 %}\t\ny{{a}}");
        assertRenders("A",
                "  {% if true %}A{% endif %}");
        assertRenders("x\n\n  \ny",
                "x\n\n  {% if true %}  \ny{% endif %}");
        assertRenders("a  x  b",
                "a  {% if true %}x{% endif %}  b");
    }

    @Test
    void minusStripsAllWhitespaceOnThatSide() {
        assertRenders("axb",
                "a\n  {%- if true -%}\n    x\n  {%- endif -%}\nb");
        assertRenders("xy",
                "x {#- c -#} y");
        assertRenders("  x  y",
                "{{- '  x  ' -}}   \n  y");
        assertRenders("Ab\nC",
                "A\n    {{- 'b' }}\n    {% set x = 1 -%}\n   C");
        assertRenders("ab",
                "{%- for m in ['a','b'] %}\n    {{- m }}\n{%- endfor %}");
        assertRenders("abcd",
                "{{ 'a' -}}\n\n  b{{ 'c' }}  \n  {{- 'd' }}");
        assertRenders("x12",
                "{%- if true %}\n    {{- 'x' }}\n    {%- for i in [1,2] %}\n        {{- i }}\n    {%- endfor %}\n{%- endif %}\n");
    }

    @Test
    void plusDisablesLstripAndTrim() {
        assertRenders("a \nbc",
                "a {%+ if true +%}\nb{% endif %}\nc");
    }

    @Test
    void commentsAndRawBlocks() {
        assertRenders("x\ny",
                "x\n  {# comment #}\ny");
        assertRenders("{{ x }} and\n\n{% if %}\nz",
                "{% raw %}{{ x }}{% endraw %} and\n  {% raw %}\n{% if %}\n  {% endraw %}\nz");
        assertRenders("a\nbe",
                "a\n{# c #}\nb\n  {#- d #}\ne");
        assertRenders("a{{ x }}b",
                "a\n  {%- raw -%}\n  {{ x }}\n  {%- endraw %}\nb");
    }

    @Test
    void newlinesAreNormalizedAndOneTrailingNewlineDropped() {
        assertRenders("a\nb\n",
                "{{ 'a' }}\n{{ 'b' }}\n\n");
        assertRenders("a\nb\nc",
                "a\r\nb\r\n{% if true %}\r\nc{% endif %}\r\n");
    }

    @Test
    void lstripTreatsUnicodeSpacesAsWhitespace() {
        assertRenders("\u00a0\u00a0|\nz",
                "{% if true %}\u00a0\u00a0{% endif %}|\n\u00a0 {% if true %}z{% endif %}");
    }

    @Test
    void printStatement() {
        assertRenders("ab",
                "{% print 'a', 'b' %}");
    }
}
