package dev.tokenselect.engine.template;

import static dev.tokenselect.engine.template.TemplateTestSupport.assertFails;
import static dev.tokenselect.engine.template.TemplateTestSupport.assertRenders;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Jinja2 filters (with transformers' json.dumps-based tojson) and tests. */
class FiltersAndTestsTest {

    @Test
    void basicFilters() {
        assertRenders("2|3|1|2",
                "{{ [1,2]|length }}|{{ 'abc'|count }}|{{ {'a':1}|length }}|{{ 'a🙂'|length }}");
        assertRenders("[x]|[a]|[None]|[5]",
                "[{{ '  x  '|trim }}]|[{{ 'xxaxx'|trim('x') }}]|[{{ none|trim }}]|[{{ 5|trim }}]");
        assertRenders("Hello World-Foo(Bar) [Baz]<Q>|Hello|X|x|It's A Test",
                "{{ 'hello WORLD-foo(bar) [baz]<q>'|title }}|{{ 'hELLO'|capitalize }}|{{ 'x'|upper }}|{{ 'X'|lower }}|{{ \"it's a test\"|title }}");
        assertRenders("1, 2, 3|1Nonea|a, b|a.b.c",
                "{{ [1,2,3]|join(', ') }}|{{ [1,none,'a']|join }}|{{ users|join(', ', attribute='name') }}|{{ 'abc'|join('.') }}",
                "{\"users\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}");
        assertRenders("1|2|a|c|[]|[]|a|b",
                "{{ [1,2]|first }}|{{ [1,2]|last }}|{{ 'abc'|first }}|{{ 'abc'|last }}|[{{ []|first }}]|[{{ []|last }}]|{{ {'a':1,'b':2}|first }}|{{ {'a':1,'b':2}|last }}");
        assertRenders("['a', 'b']|['a']|1|None|[1]",
                "{{ 'ab'|list }}|{{ {'a':1}|list }}|{{ 1|string }}|{{ none|string }}|{{ [1]|string }}");
        assertRenders("bbbb|bbaa|1x3",
                "{{ 'aaaa'|replace('a', 'b') }}|{{ 'aaaa'|replace('a', 'b', 2) }}|{{ 123|replace('2', 'x') }}");
    }

    @Test
    void numberFilters() {
        assertRenders("42|42|0|7|3|-3|26|1000|12|0|1|3.0|0.0|2.0|1000.0|inf",
                "{{ '42'|int }}|{{ '42.7'|int }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ 3.9|int }}|{{ -3.9|int }}|{{ '0x1A'|int(0, 16) }}|{{ '1_000'|int }}|{{ ' 12 '|int }}|{{ none|int }}|{{ true|int }}|{{ '3'|float }}|{{ 'x'|float }}|{{ 2|float }}|{{ ' 1e3 '|float }}|{{ 'inf'|float }}");
        assertRenders("3|3.5|2.0|4.0|2.67|42.5|42.6|5|1200|-0.0|5.0",
                "{{ -3|abs }}|{{ -3.5|abs }}|{{ 2.5|round }}|{{ 3.5|round }}|{{ 2.675|round(2) }}|{{ 42.55|round(1, 'floor') }}|{{ 42.55|round(1, 'ceil') }}|{{ 5|round }}|{{ 1234|round(-2) }}|{{ -0.4|round }}|{{ 5|round(0, 'floor') }}");
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        assertRenders("{\"b\": [1, 2.5, null, true], \"a\": {\"x\": \"y\"}, \"é\": \"ü\"}|{\n  \"b\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"a\": {\n    \"x\": \"y\"\n  },\n  \"é\": \"ü\"\n}|[\n1,\n2\n]|{}|[]|\"é\\\"\\n\\u0001<>&'\"|{\"a\": {\"x\": \"y\"}, \"b\": [1, 2.5, null, true], \"é\": \"ü\"}|{\"b\":[1,2.5,null,true],\"a\":{\"x\":\"y\"},\"é\":\"ü\"}|\"\\u00e9\"|\"\\ud83d\\ude42\"|1.0|null|[1, 2]",
                "{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ [1,2]|tojson(indent=0) }}|{{ {}|tojson(indent=2) }}|{{ []|tojson }}|{{ 'é\"\\n\\u0001<>&\\''|tojson }}|{{ d|tojson(sort_keys=true) }}|{{ d|tojson(separators=(',', ':')) }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ '🙂'|tojson(true) }}|{{ 1.0|tojson }}|{{ none|tojson }}|{{ (1,2)|tojson }}",
                "{\"d\": {\"b\": [1, 2.5, null, true], \"a\": {\"x\": \"y\"}, \"é\": \"ü\"}}");
        assertRenders("{\n\t\"a\": [\n\t\t1,\n\t\t{\n\t\t\t\"b\": 2\n\t\t}\n\t]\n}|{\"1\": \"b\", \"null\": \"c\", \"1.5\": \"d\"}",
                "{{ d|tojson(indent='\\t') }}|{{ {1: 'a', true: 'b', none: 'c', 1.5: 'd'}|tojson }}",
                "{\"d\": {\"a\": [1, {\"b\": 2}]}}");
        assertRenders("{\"code\": \"def f(x):\\n\\treturn \\\"x\\\" + '\\\\\\\\'\", \"k\": \"서울 🙂\", \"n\": [1, -2, 3.25, 1e+20, 0.1]}",
                "{{ d|tojson }}",
                "{\"d\": {\"code\": \"def f(x):\\n\\treturn \\\"x\\\" + '\\\\\\\\'\", \"k\": \"서울 🙂\", \"n\": [1, -2, 3.25, 1e+20, 0.1]}}");
    }

    @Test
    void mappingFilters() {
        assertRenders("b=2;A=3;c=1;|b=2;A=3;c=1;||[('A', 3), ('b', 2), ('c', 1)]|[('A', 3), ('b', 2), ('c', 1)]",
                "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k, v in undefined_var|items %}x{% endfor %}|{{ d|dictsort }}|{{ d|dictsort(by='value', reverse=true) }}",
                "{\"d\": {\"b\": 2, \"A\": 3, \"c\": 1}}");
        assertRenders("a:2;b:1,3;|a1b2",
                "{% for g in m|groupby('k') %}{{ g.grouper }}:{{ g.list|map(attribute='n')|join(',') }};{% endfor %}|{% for key, items in m|groupby('k') %}{{ key }}{{ items|length }}{% endfor %}",
                "{\"m\": [{\"n\": 1, \"k\": \"b\"}, {\"n\": 2, \"k\": \"a\"}, {\"n\": 3, \"k\": \"B\"}]}");
        assertRenders("|[]|q",
                "{{ d|attr('a') }}|[{{ d|attr('zz') }}]|{{ ns.x if false else 'q' }}",
                "{\"d\": {\"a\": 1}}");
    }

    @Test
    void selectRejectAndMap() {
        assertRenders("[1, 3]|[0, 2, 4]|[3, 4]|[1, 2, 3, 4]|2|2|[{'role': 'sys', 'c': '2', 'x': True}]|1|3",
                "{{ l|select('odd')|list }}|{{ l|reject('odd')|list }}|{{ l|select('>', 2)|list }}|{{ l|select|list }}|{{ m|selectattr('role', 'equalto', 'user')|list|length }}|{{ m|rejectattr('role', 'eq', 'user')|map(attribute='c')|join(',') }}|{{ m|selectattr('x')|list }}|{{ m|selectattr('x', 'defined')|list|length }}|{{ m|selectattr('role', 'in', ['sys','user'])|list|length }}",
                "{\"l\": [0, 1, 2, 3, 4], \"m\": [{\"role\": \"user\", \"c\": \"1\"}, {\"role\": \"sys\", \"c\": \"2\", \"x\": true}, {\"role\": \"user\", \"c\": \"3\"}]}");
        assertRenders("['A', 'B']|[1, 2]|['D', 'D']|Ab|1+2|[2, 1]|1",
                "{{ l|map('upper')|list }}|{{ m|map(attribute='a.b')|list }}|{{ m|map(attribute='zz', default='D')|list }}|{{ l|map('replace', 'a', 'A')|join }}|{{ nums|map('string')|join('+') }}|{{ [[1,2],[3]]|map('length')|list }}|{{ m|map(attribute='a.b')|first }}",
                "{\"l\": [\"a\", \"b\"], \"m\": [{\"a\": {\"b\": 1}}, {\"a\": {\"b\": 2}}], \"nums\": [1, 2]}");
    }

    @Test
    void uniqueSortReverseMinMaxSum() {
        assertRenders("['a', 'b']|['a', 'A', 'b']|[1, 2, 3]|['A', 'b', 'c']|['A', 'b', 'c']|[3, 2, 1]|[1, 2, 3]|[3, 1, 2]",
                "{{ ['a','A','b','a']|unique|list }}|{{ ['a','A','b']|unique(case_sensitive=true)|list }}|{{ [3,1,2]|sort }}|{{ ['b','A','c']|sort }}|{{ ['b','A','c']|sort(case_sensitive=true) }}|{{ [3,1,2]|sort(reverse=true) }}|{{ m|sort(attribute='n')|map(attribute='n')|list }}|{{ m|sort(attribute='k,n')|map(attribute='n')|list }}",
                "{\"m\": [{\"n\": 2, \"k\": \"b\"}, {\"n\": 1, \"k\": \"b\"}, {\"n\": 3, \"k\": \"a\"}]}");
        assertRenders("cba|[3, 2, 1]|[2, 1]|21|[2, 1]",
                "{{ 'abc'|reverse }}|{{ [1,2,3]|reverse|list }}|{{ (1,2)|reverse|list }}|{% for x in [1,2]|reverse %}{{ x }}{% endfor %}|{{ [1,2]|select|reverse }}");
        assertRenders("1|3|A|A||6|7|0.30000000000000004|{'n': 5}",
                "{{ [3,1,2]|min }}|{{ [3,1,2]|max }}|{{ ['b','A']|min }}|{{ ['b','A']|min(case_sensitive=true) }}|{{ []|max }}|{{ [1,2,3]|sum }}|{{ m|sum(attribute='n') }}|{{ [0.1,0.2]|sum }}|{{ m|max(attribute='n') }}",
                "{\"m\": [{\"n\": 2}, {\"n\": 5}]}");
    }

    @Test
    void textFilters() {
        assertRenders("a\n    b\n\n    c|  a\n  b|a\n  \n  b|a\n> b|    a\n",
                "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}|{{ 'a\\n'|indent(first=true) }}");
        assertRenders("3|  x  |[[1, 2], [3, 4], [5]]|[[1, 2], [3, 0]]|[[1, 2, 3], [4, 5]]|&lt;a href=&#34;x&#34;&gt;&amp;|&lt;a&gt;|<a>|a=1|long text here|long text here|short",
                "{{ 'a b  c'|wordcount }}|{{ 'x'|center(5) }}|{{ [1,2,3,4,5]|batch(2)|list }}|{{ [1,2,3]|batch(2, 0)|list }}|{{ [1,2,3,4,5]|slice(2)|list }}|{{ '<a href=\"x\">&'|e }}|{{ '<a>'|escape }}|{{ '<a>'|safe }}|{{ '%s=%d'|format('a', 1) }}|{{ 'long text here'|truncate(9) }}|{{ 'long text here'|truncate(9, true) }}|{{ 'short'|truncate(9) }}");
    }

    @Test
    void tests() {
        assertRenders("True|True|True|False|True|True|True|True|True|True|False|True|True|True|True|True|True|False|True|False|True|False|True|False",
                "{{ 1 is odd }}|{{ 2 is even }}|{{ 9 is divisibleby 3 }}|{{ 9 is divisibleby(4) }}|{{ none is none }}|{{ 1 is not none }}|{{ 'a' is string }}|{{ {} is mapping }}|{{ [] is iterable }}|{{ 'a' is iterable }}|{{ 1 is iterable }}|{{ [] is sequence }}|{{ {} is sequence }}|{{ 1 is number }}|{{ true is number }}|{{ 1.5 is float }}|{{ 1 is integer }}|{{ true is integer }}|{{ true is boolean }}|{{ 1 is boolean }}|{{ true is true }}|{{ 1 is true }}|{{ false is false }}|{{ 0 is false }}");
        assertRenders("True|True|True|False|True|True|True|True|True|False|True|True|True|True|True|True|True|True|True|False",
                "{{ 'a' is equalto 'a' }}|{{ 1 is eq 1 }}|{{ 2 is gt 1 }}|{{ 2 is lt 1 }}|{{ 2 is ge 2 }}|{{ 1 is ne 2 }}|{{ 'a' is in 'cat' }}|{{ 'upper' is filter }}|{{ 'odd' is test }}|{{ 'nope' is filter }}|{{ 'abc' is lower }}|{{ 'ABC' is upper }}|{{ x is callable }}|{{ range is callable }}|{{ 1 is sameas 1 }}|{{ none is sameas none }}|{{ undefined_x is iterable }}|{{ undefined_x is sequence }}|{{ [1]|select is iterable }}|{{ [1]|select is sequence }}");
        assertRenders("True|False|False|q",
                "{{ 3 is odd and 4 is even }}|{{ not 3 is odd }}|{{ x is defined and x }}|{{ 'q' if x is not defined else 'r' }}");
    }

    @Test
    void generatorsAreTruthySinglePassAndHaveNoLength() {
        // select/map/unique/... return generators in Jinja2: always truthy, consumed by the first traversal.
        assertRenders("truthy|[1, 2, 3][]",
                "{% if []|select %}truthy{% endif %}|{% set g = [1,2,3]|select %}{{ g|list }}{{ g|list }}");
        assertEquals("TypeError: object of type 'generator' has no len()",
                assertFails("{{ [1,2]|select|length }}").reason());
        assertRenders("2", "{{ [1,2]|select|list|length }}");
    }

    @Test
    void unknownFilterOrTestIsACompileError() {
        TemplateException filter = org.junit.jupiter.api.Assertions.assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("{{ x }}\n{{ x | nosuchfilter }}"));
        assertEquals("No filter named 'nosuchfilter'.", filter.reason());
        assertEquals(2, filter.line());
        assertEquals(8, filter.column());
        TemplateException test = org.junit.jupiter.api.Assertions.assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("{{ x is nosuchtest }}"));
        assertEquals("No test named 'nosuchtest'.", test.reason());
        TemplateException inLoop = org.junit.jupiter.api.Assertions.assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("{% if false %}{% for i in [] %}{{ i|nope }}{% endfor %}{% endif %}"));
        assertEquals("No filter named 'nope'.", inLoop.reason());
    }

    @Test
    void unknownFilterInsideIfOrConditionalFailsOnlyWhenItRuns() {
        // Jinja2 3.x defers the check inside if-blocks and inline ifs (templates guard e.g. `from_json` this way).
        assertRenders("1ok", "{% if false %}{{ x|from_json }}{% endif %}{{ 1 if true else y|nope }}ok");
        assertEquals("TemplateRuntimeError: No filter named 'from_json' found.",
                assertFails("{% if true %}{{ '1'|from_json }}{% endif %}").reason());
        assertEquals("TemplateRuntimeError: No test named 'nope' found.",
                assertFails("{% if x is nope %}a{% endif %}").reason());
    }

    @Test
    void filtersThatLookAtTheirInputType() {
        assertRenders("[]|[]|[]",
                "{{ (not [1])|map(attribute='k')|list }}|{{ 0|map('string')|list }}|{{ none|select|list }}");
        assertRenders("range(0, 3)|[1, 2]|ab...",
                "{{ range(3)|truncate(5) }}|{{ [1, 2]|truncate(5) }}|{{ 'abcdefghijkl'|truncate(5, leeway=0) }}");
    }
}
