package dev.tokenselect.engine.template;

import static dev.tokenselect.engine.template.TemplateTestSupport.assertRenders;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Statements: loops and the loop variable, scoping, namespace, set, macros, with, filter blocks, globals. */
class StatementSemanticsTest {

    @Test
    void loopVariables() {
        assertRenders("1032TrueFalse3b|2121FalseFalse3ac|3210FalseTrue3b|",
                "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}|{% endfor %}");
        assertRenders("1:1/3 2:3/3 3:5/3 ",
                "{% for x in [1,2,3,4,5] if x is odd %}{{ loop.index }}:{{ x }}/{{ loop.length }} {% endfor %}");
        assertRenders("aTruebTrueaFalse",
                "{% for x in [1,2,3] %}{{ loop.cycle('a','b') }}{{ loop.changed(x//2) }}{% endfor %}");
        assertRenders("1121",
                "{% for x in [1,2] %}{% set outer = loop %}{% for y in [3] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}");
    }

    @Test
    void breakAndContinue() {
        assertRenders("13",
                "{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}");
    }

    @Test
    void unpackingAndElse() {
        assertRenders("37|123|xy",
                "{% for a, b in [(1,2),(3,4)] %}{{ a+b }}{% endfor %}|{% for a, (b, c) in [(1,(2,3))] %}{{ a }}{{ b }}{{ c }}{% endfor %}|{% for k in {'x':1,'y':2} %}{{ k }}{% endfor %}");
        assertRenders("empty|filtered-empty|113 214 123 224 ",
                "{% for x in [] %}a{% else %}empty{% endfor %}|{% for x in [1] if false %}a{% else %}filtered-empty{% endfor %}|{% for x in [1,2] %}{% for y in [3,4] %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{% endfor %}");
    }

    @Test
    void setInsideALoopDoesNotSurviveTheIteration() {
        assertRenders("01;02;0",
                "{% set x = 0 %}{% for i in [1,2] %}{{ x }}{% set x = x + i %}{{ x }};{% endfor %}{{ x }}");
        assertRenders("[one][][]",
                "{% for i in [1,2] %}{% if i == 1 %}{% set c = 'one' %}{% endif %}[{{ c }}]{% endfor %}[{{ c }}]");
        assertRenders("5",
                "{% if true %}{% set y = 5 %}{% endif %}{{ y }}");
        assertRenders("1!;2;",
                "{% for m in ms %}{% set content = m.c %}{% if m.r == 'a' %}{% set content = content ~ '!' %}{% endif %}{{ content }};{% endfor %}",
                "{\"ms\": [{\"r\": \"a\", \"c\": \"1\"}, {\"r\": \"b\", \"c\": \"2\"}]}");
    }

    @Test
    void namespaceCarriesStateOutOfLoops() {
        assertRenders("6|<Namespace {'total': 6, 'items': []}>",
                "{% set ns = namespace(total=0, items=[]) %}{% for i in [1,2,3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}|{{ ns }}");
        assertRenders("2/2",
                "{% set ns = namespace(last=none, count=0) %}{% for m in ms %}{% if m.r == 'u' %}{% set ns.last = loop.index0 %}{% set ns.count = ns.count + 1 %}{% endif %}{% endfor %}{{ ns.last }}/{{ ns.count }}",
                "{\"ms\": [{\"r\": \"u\"}, {\"r\": \"a\"}, {\"r\": \"u\"}, {\"r\": \"a\"}]}");
        assertRenders("121|1",
                "{% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}|{% set n2 = namespace({'q': 1}) %}{{ n2.q }}");
    }

    @Test
    void recursiveLoops() {
        assertRenders("a(b2c2)1d1",
                "{% for n in tree recursive %}{{ n.name }}{% if n.children %}({{ loop(n.children) }}){% endif %}{{ loop.depth }}{% endfor %}",
                "{\"tree\": [{\"name\": \"a\", \"children\": [{\"name\": \"b\", \"children\": []}, {\"name\": \"c\"}]}, {\"name\": \"d\"}]}");
    }

    @Test
    void setForms() {
        assertRenders("12|(1, 2)|block 2|SHOUT",
                "{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set t = 1, 2 %}{{ t }}|{% set x %}block {{ 1+1 }}{% endset %}{{ x }}|{% set y | upper %}shout{% endset %}{{ y }}");
    }

    @Test
    void macros() {
        assertRenders("Hi a!|Hi b?|Hi c!|Hi !",
                "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }}|{{ greet('b', '?') }}|{{ greet(name='c') }}|{{ greet() }}");
        assertRenders("11x(){}|12(3, 4){'k': 5}",
                "{% macro m(a, b=a ~ 'x') %}{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 2, 3, 4, k=5) }}");
        assertRenders("G[]|3210",
                "{% set g = 'G' %}{% macro m() %}{{ g }}{% set local = 1 %}{% endmacro %}{{ m() }}[{{ local }}]|{% macro rec(n) %}{{ n }}{% if n > 0 %}{{ rec(n-1) }}{% endif %}{% endmacro %}{{ rec(3) }}");
        assertRenders("a: A\nb: B\n",
                "{%- macro render_tool(t) -%}\n  {{ t.name }}: {{ t.description }}\n{%- endmacro %}\n{% for t in tools %}\n{{ render_tool(t) }}\n{% endfor %}",
                "{\"tools\": [{\"name\": \"a\", \"description\": \"A\"}, {\"name\": \"b\", \"description\": \"B\"}]}");
    }

    @Test
    void withFilterBlockAndGeneration() {
        assertRenders("3[]",
                "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]");
        assertRenders("HELLO X|BBB",
                "{% filter upper %}hello {{ 'x' }}{% endfilter %}|{% filter replace('a', 'b')|upper %}aaa{% endfilter %}");
        assertRenders("x[]",
                "{% for m in ms %}{% if m.r == 'a' %}{% generation %}{{ m.c }}{% set z = 1 %}{% endgeneration %}{% endif %}{% endfor %}[{{ z }}]",
                "{\"ms\": [{\"r\": \"a\", \"c\": \"x\"}]}");
    }

    @Test
    void globals() {
        assertRenders("[0, 1, 2]|[1, 4, 7]|[5, 3, 1]|01|{'a': 1, 'b': 2}|{'x': 1}|1+2+3",
                "{{ range(3)|list }}|{{ range(1, 10, 3)|list }}|{{ range(5, 0, -2)|list }}|{% for i in range(2) %}{{ i }}{% endfor %}|{{ dict(a=1, b=2) }}|{{ dict([('x', 1)]) }}|{% set j = joiner('+') %}{% for x in [1,2,3] %}{{ j() }}{{ x }}{% endfor %}");
    }

    @Test
    void rangePrintsLikeAPythonRange() {
        assertRenders("range(0, 3)|range(1, 10, 3)|[0, 2]|3", "{{ range(3) }}|{{ range(1, 10, 3) }}|{{ range(0, 4, 2)|list }}|{{ range(3)|length }}");
    }

    @Test
    void strftimeNowReadsTheTemplatesClock() {
        Clock clock = Clock.fixed(LocalDateTime.of(2024, 3, 5, 14, 7, 9).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        ChatTemplate template = ChatTemplate.compile(
                "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %p %I %y') }}"
                        + "|{{ strftime_now('%-d %-m') }}").withClock(clock);
        assertEquals("05 Mar 2024|2024-03-05 14:07:09 Tuesday March 065 PM 02 24|5 3", template.render(Map.of()));
    }

    // A name a frame assigns before reading starts undefined there, even where a nested loop/macro reads it first.
    @Test
    void scopingFollowsJinjaCompileTimeAnalysis() {
        assertRenders("[][1]",
                "{% for x in [1] %}[{{ b }}]{% endfor %}{% set b = 1 %}[{{ b }}]",
                "{\"b\": 5}");
        assertRenders("[5][5][1]",
                "[{{ b }}]{% for x in [1] %}[{{ b }}]{% endfor %}{% set b = 1 %}[{{ b }}]",
                "{\"b\": 5}");
        assertRenders("[5][1]",
                "{% for x in [1] %}[{{ b }}]{% endfor %}{% if true %}{% set b = 1 %}{% endif %}[{{ b }}]",
                "{\"b\": 5}");
        assertRenders("[][2]",
                "{% macro m() %}[{{ c }}]{% endmacro %}{{ m() }}{% set c = 2 %}{{ m() }}",
                "{\"c\": 9}");
        assertRenders("[][]",
                "{% for i in [1, 2] %}{% for j in [0] %}[{{ c }}]{% endfor %}{% set c = i %}{% endfor %}",
                "{\"c\": 9}");
    }
}
