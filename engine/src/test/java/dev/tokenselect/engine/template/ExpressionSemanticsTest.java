package dev.tokenselect.engine.template;

import static dev.tokenselect.engine.template.TemplateTestSupport.assertRenders;

import org.junit.jupiter.api.Test;

/** Expressions evaluate and print with Python semantics (repr, int/float, truthiness, slicing, str methods). */
class ExpressionSemanticsTest {

    @Test
    void literalsPrintLikePython() {
        assertRenders("None|None|True|False|1.0|1e+16|1.5e-05|0.30000000000000004|3.3333333333333335|1|-4|2|-2|1024|0.5|64",
                "{{ none }}|{{ None }}|{{ true }}|{{ False }}|{{ 1.0 }}|{{ 1e16 }}|{{ 1.5e-5 }}|{{ 0.1+0.2 }}|{{ 10/3 }}|{{ 3//2 }}|{{ -7//2 }}|{{ -7%3 }}|{{ 7%-3 }}|{{ 2**10 }}|{{ 2**-1 }}|{{ 2**3**2 }}");
        assertRenders("[1, 'a', None, True, 1.5, {'k': 'v'}, (1,), (1, 2)]|{'a': [1, 2], 'b': {'c': None}}|('x',)|()",
                "{{ [1, 'a', none, true, 1.5, {'k': 'v'}, (1,), (1,2)] }}|{{ {'a': [1,2], 'b': {'c': none}} }}|{{ ('x',) }}|{{ () }}");
        assertRenders("it's|[\"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\there', 'nl\\n', '\\x01', '한국어', '🙂', '\\u200b']",
                "{{ \"it's\" }}|{{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"', 'tab\\there', 'nl\\n', '\\x01', '한국어', '🙂', '\\u200b'] }}");
        assertRenders("abc|é•AA|1026|10.5",
                "{{ 'a' 'b' \"c\" }}|{{ '\\u00e9\\N{BULLET}\\101\\x41' }}|{{ 1_000 + 0x10 + 0o7 + 0b11 }}|{{ 1_0.5 }}");
        assertRenders("inf|-inf|123456789.123|0.000123|0.0001|100.0|1000000000000000.0|2500000000000000.0|1e-10",
                "{{ 1e300*1e10 }}|{{ -1e300*1e10 }}|{{ 123456789.123 }}|{{ 0.000123 }}|{{ 1e-4 }}|{{ 100.0 }}|{{ 1e15 }}|{{ 2.5e15 }}|{{ 1.0e-10 }}");
        assertRenders("3|3.0|3.0|3|3.0|1.4142135623730951|1000.0|25.0|1|2.5|3.5",
                "{{ 3 }}|{{ 3.0 }}|{{ 3 / 1 }}|{{ 7 // 2 }}|{{ 7.0 // 2 }}|{{ 2 ** 0.5 }}|{{ 1e3 }}|{{ 12.5 * 2 }}|{{ x }}|{{ y }}|{{ x + y }}",
                "{\"x\": 1, \"y\": 2.5}");
        assertRenders("{'a': [1, 2.0, None, True, 'x']}|[{'k': (1, 'b')}]|{}|[]",
                "{{ {'a': [1, 2.0, none, true, 'x']} }}|{{ [{'k': (1, 'b')}] }}|{{ {} }}|{{ [] }}");
        assertRenders("{'k': 'v', 'n': None, 't': True, 'f': 1.5, 'l': [1, 'x']}|[{'a': \"it's\"}]",
                "{{ d }}|{{ l }}",
                "{\"d\": {\"k\": \"v\", \"n\": null, \"t\": true, \"f\": 1.5, \"l\": [1, \"x\"]}, \"l\": [{\"a\": \"it's\"}]}");
        assertRenders("aNoneTrue1.0[1]|12",
                "{{ 'a' ~ none ~ true ~ 1.0 ~ [1] }}|{{ 1 ~ 2 }}");
        assertRenders("\n|\t|\\|a'b|a\"b|é|A|\\z",
                "{{ '\\n' }}|{{ \"\\t\" }}|{{ '\\\\' }}|{{ 'a\\'b' }}|{{ \"a\\\"b\" }}|{{ '\\u00e9' }}|{{ '\\x41' }}|{{ '\\z' }}");
    }

    @Test
    void integersDoNotOverflow() {
        assertRenders("123456789012345678900|18446744073709551616|9223372036854775808|-9223372036854775809",
                "{{ 12345678901234567890 * 10 }}|{{ 2**64 }}|{{ 9223372036854775807 + 1 }}|{{ -(2**63) - 1 }}");
    }

    @Test
    void arithmeticFollowsPython() {
        assertRenders("abcabcabc|ababab|[1, 1, 1]|||2|a",
                "{{ 'abc' * 3 }}|{{ 3 * 'ab' }}|{{ [1] * 3 }}|{{ 'x' * 0 }}|{{ 'x' * -1 }}|{{ true + true }}|{{ true * 'a' }}");
        assertRenders("2.0|1.0|True|True|True|True|True|False|True",
                "{{ 1 + 1.0 }}|{{ 7 / 7 }}|{{ 1 == 1.0 }}|{{ 1 == true }}|{{ 0 == false }}|{{ 'a' == 'a' }}|{{ [1,2] == [1,2] }}|{{ (1,2) == [1,2] }}|{{ {'a':1} == {'a':1.0} }}");
        assertRenders("1.4142135623730951|3.0|0.5|3.0|-4.0|inf",
                "{{ 2.0 ** 0.5 }}|{{ 10 % 3.5 }}|{{ -10 % 3.5 }}|{{ 7.5 // 2 }}|{{ -7.5 // 2 }}|{{ 1e308 * 10 }}");
        assertRenders("2|a3|x6|2|xYZ|[1, 2]|0|2|5.0",
                "{{ -2|abs }}|{{ 'a' ~ (1 + 2) }}|{{ 'x' ~ 2 * 3 }}|{{ l|length - 1 }}|{{ 'x' + 'yz'|upper }}|{{ (1, 2)|list }}|{{ 3 - 2 - 1 }}|{{ 2 * 3 % 4 }}|{{ 10 / 4 * 2 }}",
                "{\"l\": [1, 2, 3]}");
        assertRenders("-5",
                "{{ -x }}",
                "{\"x\": 5}");
    }

    @Test
    void comparisonsAndMembership() {
        assertRenders("True|False|True|True|True|True|True|True|True|True",
                "{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 'a' < 'b' }}|{{ [1,2] < [1,3] }}|{{ [1] < [1, 0] }}|{{ 'a' in 'cat' }}|{{ 'z' not in 'cat' }}|{{ 1 in [1,2] }}|{{ 'k' in {'k':1} }}|{{ none in [none] }}");
        assertRenders("False|False|True|True",
                "{{ 'a' in undefined_thing }}|{{ undefined_thing in ['a'] }}|{{ undefined_thing == undefined_other }}|{{ undefined_thing != none }}");
    }

    @Test
    void booleanOperatorsReturnOperands() {
        assertRenders("b||x|[]|True|False|1||n",
                "{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ 0 or 'x' }}|{{ none or [] }}|{{ not none }}|{{ not 'a' }}|{{ 1 if true }}|{{ 1 if false }}|{{ 'y' if 0 else 'n' }}");
        assertRenders("y|d|dflt|e||None",
                "{{ 'x' if a is defined else 'y' }}|{{ (a or 'd') }}|{{ a | default('dflt') }}|{{ '' | default('e', true) }}|{{ '' | d('e') }}|{{ none | default('nn') }}");
        assertRenders("has|empty|emptyd|zero|space",
                "{% if messages %}has{% endif %}|{% if [] %}no{% else %}empty{% endif %}|{% if {} %}no{% else %}emptyd{% endif %}|{% if 0.0 %}no{% else %}zero{% endif %}|{% if ' ' %}space{% endif %}",
                "{\"messages\": [1]}");
    }

    @Test
    void undefinedBehavesLikeJinjaDefaultUndefined() {
        assertRenders("[]|0|False|True|empty|a||[]|||",
                "[{{ x }}]|{{ x|length }}|{{ x is defined }}|{{ x is undefined }}|{% for i in x %}no{% else %}empty{% endfor %}|{{ x ~ 'a' }}|{{ x|string }}|{{ x|list }}|{{ x|join(',') }}|{{ x|trim }}|{{ x|upper }}");
        assertRenders("[]|False|False|[]|[]|[]",
                "[{{ d.missing }}]|{{ d.missing is defined }}|{{ d['missing'] is defined }}|[{{ l[10] }}]|[{{ 'abc'[5] }}]|[{{ none.x }}]",
                "{\"d\": {\"a\": 1}, \"l\": [1]}");
    }

    @Test
    void attributeAndItemLookup() {
        assertRenders("1|1|dict_items([('a', 1), ('items', 'ITEMS'), ('b', [1, 2])])|dict_keys(['a', 'items', 'b'])|dict_values([1, 'ITEMS', [1, 2]])|1|dflt|None",
                "{{ d.a }}|{{ d['a'] }}|{{ d.items() }}|{{ d.keys() }}|{{ d.values() }}|{{ d.get('a') }}|{{ d.get('zz', 'dflt') }}|{{ d.get('zz') }}",
                "{\"d\": {\"a\": 1, \"items\": \"ITEMS\", \"b\": [1, 2]}}");
        assertRenders("1|4|[1, 2]|[4, 3, 2, 1]|[1, 3]|[3, 4]|[1, 2, 3]|[]|[]|[4, 3, 2]",
                "{{ l.0 }}|{{ l[-1] }}|{{ l[0:2] }}|{{ l[::-1] }}|{{ l[::2] }}|{{ l[-2:] }}|{{ l[:-1] }}|{{ l[5:] }}|{{ l[1:1] }}|{{ l[3:0:-1] }}",
                "{\"l\": [1, 2, 3, 4]}");
        assertRenders("|",
                "{{ d.update }}|{{ l.append }}",
                "{\"d\": {}, \"l\": []}");
        assertRenders("1|||",
                "{{ t[0] }}|{{ d[1] }}|{{ d[1.0] }}|{{ d[true] }}",
                "{\"t\": [1], \"d\": {\"x\": 1}}");
        assertRenders("[2, 3]|1|2|1|(1,)|2|1",
                "{{ [1,2,3][1:] }}|{{ {'a': 1}['a'] }}|{{ (1,2,3)[1] }}|{{ ((1)) }}|{{ (1,) }}|{{ [1,2,][1] }}|{{ {'a':1,}.a }}");
        assertRenders("system|S|U|2|1",
                "{{ messages[0]['role'] }}|{{ messages[0].content }}|{{ messages[-1]['content']|trim }}|{{ messages|length }}|{{ (messages|length - 1) - 0 }}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"  U  \"}]}");
        assertRenders("deep|deep|deep",
                "{{ x.y.z }}|{{ x['y']['z'] }}|{{ x.y['z'] }}",
                "{\"x\": {\"y\": {\"z\": \"deep\"}}}");
    }

    @Test
    void stringsAreIndexedByCodePoint() {
        assertRenders("a|한|한b🙂a|🙂b|4|b",
                "{{ s[0] }}|{{ s[-1] }}|{{ s[::-1] }}|{{ s[1:3] }}|{{ s|length }}|{{ s[2] }}",
                "{\"s\": \"a🙂b한\"}");
        assertRenders("gfedcba|efg|abcd|bdf||ab|geca",
                "{{ s[::-1] }}|{{ s[-3:] }}|{{ s[:-3] }}|{{ s[1::2] }}|{{ s[10:] }}|{{ s[-100:2] }}|{{ s[::-2] }}",
                "{\"s\": \"abcdefg\"}");
        assertRenders("[a][🙂]",
                "{% for c in s %}[{{ c }}]{% endfor %}",
                "{\"s\": \"a🙂\"}");
    }

    @Test
    void stringMethods() {
        assertRenders("xhello World's end x|xhello World's end x |  xhello World's end x|hello World's end|  XHELLO WORLD'S END X |  xhello world's end x |  Xhello World'S End X |  xhello world's end x ",
                "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip(' x') }}|{{ s.upper() }}|{{ s.lower() }}|{{ s.title() }}|{{ s.capitalize() }}",
                "{\"s\": \"  xhello World's end x \"}");
        assertRenders("['a,b', 'c,d', 'x', 'y']|['', 'a,b', '', 'c,d\\nx\\r\\ny', '']|[' a', 'b  c,d\\nx\\r\\ny ']|[' a,b  c', 'd\\nx\\r\\ny ']|['a,b', 'c,d\\nx\\r\\ny ']|[' a,b  c,d\\nx', 'y']|[' a,b  c,d', 'x', 'y ']|[' a,b  c,d\\n', 'x\\r\\n', 'y ']",
                "{{ s.split() }}|{{ s.split(' ') }}|{{ s.split(',', 1) }}|{{ s.rsplit(',', 1) }}|{{ s.split(None, 1) }}|{{ s.rsplit(None, 1) }}|{{ s.splitlines() }}|{{ s.splitlines(true) }}",
                "{\"s\": \" a,b  c,d\\nx\\r\\ny \"}");
        assertRenders("True|False|2|3|2|aBcB|aBcb|2|True",
                "{{ s.startswith('ab') }}|{{ s.endswith(('x','c')) }}|{{ s.find('c') }}|{{ s.rfind('b') }}|{{ s.count('b') }}|{{ s.replace('b','B') }}|{{ s.replace('b','B',1) }}|{{ s.index('c') }}|{{ s.startswith('b', 1) }}",
                "{\"s\": \"abcb\"}");
        assertRenders("a, b|a-b-c|**x**|  ab |ab..|00042|-0042|('a', '=', 'b=c')|('a=b', '=', 'c')",
                "{{ ', '.join(['a','b']) }}|{{ '-'.join('abc') }}|{{ 'x'.center(5, '*') }}|{{ 'ab'.center(5) }}|{{ 'ab'.ljust(4,'.') }}|{{ '42'.zfill(5) }}|{{ '-42'.zfill(5) }}|{{ 'a=b=c'.partition('=') }}|{{ 'a=b=c'.rpartition('=') }}");
        assertRenders("True|True|True|True|True|True|True|False",
                "{{ 'abc'.isalpha() }}|{{ '123'.isdigit() }}|{{ 'ab1'.isalnum() }}|{{ '  '.isspace() }}|{{ 'abc'.islower() }}|{{ 'ABC'.isupper() }}|{{ 'Abc Def'.istitle() }}|{{ ''.isalpha() }}");
        assertRenders("Hello World|They'Re Bill'S|SS|FI|2|ǅ",
                "{{ 'hello world'.title() }}|{{ \"they're bill's\".title() }}|{{ 'ß'.upper() }}|{{ 'ﬁ'.upper() }}|{{ 'İ'.lower()|length }}|{{ 'ǆ'.title() }}");
        assertRenders("['a', 'b']|x|['a\\u200bb']|['a', 'b']",
                "{{ 'a\u00a0b'.split() }}|{{ '\u2003x\u2003'.strip() }}|{{ 'a\u200bb'.split() }}|{{ 'a\u001cb'.split() }}");
        assertRenders("bc|ab|['a', 'b', '', 'c']|['']|[]|-a-a-a-|4|2",
                "{{ 'abc'.removeprefix('a') }}|{{ 'abc'.removesuffix('c') }}|{{ 'a,b,,c'.split(',') }}|{{ ''.split(',') }}|{{ ''.split() }}|{{ 'aaa'.replace('', '-') }}|{{ 'aaa'.count('') }}|{{ 'aaaa'.count('aa') }}");
        assertRenders("[reason][answer][reason]",
                "{% set c = m.split('</think>')[-1].lstrip('\\n') %}{% set r = m.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}[{{ r }}][{{ c }}][{{ r.strip('\\n') }}]",
                "{\"m\": \"<think>\\nreason\\n</think>\\n\\nanswer\"}");
    }

    @Test
    void stringFormatting() {
        assertRenders("a and 1|xyx|n!|    a|b    |  c  |3.14|00042|{}",
                "{{ '{} and {}'.format('a', 1) }}|{{ '{0}{1}{0}'.format('x','y') }}|{{ '{name}!'.format(name='n') }}|{{ '{:>5}|{:<5}|{:^5}'.format('a','b','c') }}|{{ '{:.2f}'.format(3.14159) }}|{{ '{:05d}'.format(42) }}|{{ '{{}}'.format() }}");
        assertRenders("a-3-2.50-'q'-    r-l    ||1|x|ff 10 1.234568e+04 0.0001234 1E+20|003.1|+5",
                "{{ '%s-%d-%.2f-%r-%5s-%-5s|' % ('a', 3, 2.5, 'q', 'r', 'l') }}|{{ '%(a)s' % {'a': 1} }}|{{ '%s' % 'x' }}|{{ '%x %o %e %g %G' % (255, 8, 12345.678, 0.0001234, 1e20) }}|{{ '%05.1f|%+d' % (3.14159, 5) }}");
        assertRenders("1,234,567|+2.2|2|4|ff|'a'|1.230000e-04|25.6%|5",
                "{{ '{:,}'.format(1234567) }}|{{ '{:+.1f}'.format(2.25) }}|{{ '{:.0f}'.format(2.5) }}|{{ '{:.0f}'.format(3.5) }}|{{ '{:x}'.format(255) }}|{{ '{!r}'.format('a') }}|{{ '{:e}'.format(0.000123) }}|{{ '{:.1%}'.format(0.256) }}|{{ '{0[a]}'.format({'a': 5}) }}");
    }

    // Jinja2 folds -1 to a literal and emits (-1 ** x), which Python evaluates as -(1 ** x).
    @Test
    void negativeConstantBaseOfPowerBindsLikePythonSource() {
        assertRenders("-1|-8|9|4|-8|0.125",
                "{{ -1 ** x }}|{{ (-2) ** x }}|{{ -x ** 2 }}|{{ -2 ** 2 }}|{{ (0 - 2) ** x }}|{{ 2 ** -x }}",
                "{\"x\": 3}");
    }

    @Test
    void percentFormattingTreatsListsAndDictsAsMappings() {
        assertRenders("plain|plain|plain|[1, 2]|x-2",
                "{{ 'plain' % [1, 2] }}|{{ 'plain' % {'a': 1} }}|{{ 'plain' % undefined_value }}|{{ '%s' % [1, 2] }}|{{ '%(a)s-%(b)d' % {'a': 'x', 'b': 2} }}");
        assertRenders("   1|True|0",
                "{{ '{:>4}'.format(true) }}|{{ '{}'.format(true) }}|{{ '{:d}'.format(false) }}");
    }

    @Test
    void rangeObjects() {
        assertRenders("range(0, 5, 2)|range(1, 4, -1)|range(3, 2)|range(3, 8)|True|False",
                "{{ range(5)[::2] }}|{{ range(5)[1:-1:-1] }}|{{ range(5)[-2:2] }}|{{ range(10)[2:8][1:] }}|{{ range(3) == range(3) }}|{{ range(3) == [0, 1, 2] }}");
    }

    @Test
    void searchBoundsFollowCPython() {
        assertRenders("0|3|3|-1|False|True|2|3",
                "{{ ''.count('', 2) }}|{{ 'abc'.count('', 1) }}|{{ 'abc'.find('', 3) }}|{{ 'abc'.find('', 4) }}|{{ 'abc'.startswith('', 4) }}|{{ 'abc'.endswith('c', -1) }}|{{ 'a🙂b'.find('b') }}|{{ 'a🙂b🙂'.rfind('🙂') }}");
    }
}
