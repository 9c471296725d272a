package dev.tokenselect.engine.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser following Jinja2's grammar and precedence: conditional expression, or, and, not,
 * comparisons (chained, with in / not in), + -, ~, * / // %, ** (left-associative, as in Jinja2), unary - +, then
 * postfix (.attr, [item], call) and filter/test chains.
 */
final class Parser {

    private static final Set<String> UNSUPPORTED_TAGS = Set.of("block", "extends", "include", "import", "from",
            "call", "autoescape");
    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private int index;
    /** How many enclosing for-loops can a {@code break}/{@code continue} here refer to. */
    private int loopDepth;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        Parser parser = new Parser(Lexer.tokenize(source));
        List<Node> body = parser.subparse(Set.of());
        if (!parser.current().is(Token.Type.EOF)) {
            throw fail(parser.current(), "unexpected " + parser.current().describe());
        }
        new NameCheck().statements(body, false);
        return body;
    }

    // ---------------------------------------------------------------- token stream

    private Token current() {
        return tokens.get(index);
    }

    private Token look() {
        return tokens.get(Math.min(index + 1, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(index);
        if (!t.is(Token.Type.EOF)) {
            index++;
        }
        return t;
    }

    private static TemplateException fail(Token at, String message) {
        return at.pos().error(message);
    }

    private Token expect(Token.Type type, String what) {
        Token t = current();
        if (!t.is(type)) {
            throw fail(t, "expected " + what + ", got '" + t.describe() + "'");
        }
        return next();
    }

    private Token expectOp(String op) {
        Token t = current();
        if (!t.isOperator(op)) {
            throw fail(t, "expected '" + op + "', got '" + t.describe() + "'");
        }
        return next();
    }

    private String expectName() {
        return (String) expect(Token.Type.NAME, "name").value();
    }

    private boolean skipOp(String op) {
        if (current().isOperator(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (current().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- statements

    /** Parses template content until EOF or a block tag named in {@code endTags} (left as the current token). */
    private List<Node> subparse(Set<String> endTags) {
        List<Node> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.type()) {
                case DATA -> {
                    next();
                    body.add(new Node.Text((String) t.value()));
                }
                case VARIABLE_BEGIN -> {
                    next();
                    body.add(new Node.Output(parseTuple(true, Set.of(), false)));
                    expect(Token.Type.VARIABLE_END, "end of print statement");
                }
                case BLOCK_BEGIN -> {
                    next();
                    if (current().is(Token.Type.NAME) && endTags.contains((String) current().value())) {
                        return body;
                    }
                    parseStatement(body);
                    expect(Token.Type.BLOCK_END, "end of statement block");
                }
                case EOF -> {
                    if (!endTags.isEmpty()) {
                        throw fail(t, "Unexpected end of template. Jinja was looking for the following tags: "
                                + String.join(" or ", endTags.stream().map(s -> "'" + s + "'").sorted().toList())
                                + ".");
                    }
                    return body;
                }
                default -> throw fail(t, "unexpected " + t.describe());
            }
        }
    }

    /** Body of a block statement up to one of {@code endTags}; the end tag is consumed when {@code dropNeedle}. */
    private List<Node> parseStatements(Set<String> endTags, boolean dropNeedle) {
        skipOp(":");
        expect(Token.Type.BLOCK_END, "end of statement block");
        List<Node> body = subparse(endTags);
        if (dropNeedle) {
            next();
        }
        return body;
    }

    /** A body where break/continue cannot reach an enclosing loop (macros, captured blocks). */
    private List<Node> parseDetachedStatements(Set<String> endTags) {
        int saved = loopDepth;
        loopDepth = 0;
        try {
            return parseStatements(endTags, true);
        } finally {
            loopDepth = saved;
        }
    }

    private void parseStatement(List<Node> body) {
        Token t = current();
        if (!t.is(Token.Type.NAME)) {
            throw fail(t, "tag name expected");
        }
        String tag = (String) t.value();
        switch (tag) {
            case "for" -> body.add(parseFor());
            case "if" -> body.add(parseIf());
            case "set" -> body.add(parseSet());
            case "macro" -> body.add(parseMacro());
            case "filter" -> {
                Pos pos = next().pos();
                List<Expr.FilterCall> filters = parseFilterChain(true);
                body.add(new Node.FilterBlock(filters, parseDetachedStatements(Set.of("endfilter")), pos));
            }
            case "with" -> body.add(parseWith());
            case "print" -> {
                next();
                boolean first = true;
                while (!current().is(Token.Type.BLOCK_END)) {
                    if (!first) {
                        expectOp(",");
                    }
                    first = false;
                    body.add(new Node.Output(parseExpression(true)));
                }
            }
            case "break", "continue" -> {
                next();
                if (loopDepth == 0) {
                    throw fail(t, "'" + tag + "' outside of a for loop");
                }
                body.add(tag.equals("break") ? new Node.Break() : new Node.Continue());
            }
            case "generation" -> {
                // transformers' AssistantTracker tag: renders its body in a caller() scope.
                next();
                body.add(new Node.Scoped(parseDetachedStatements(Set.of("endgeneration"))));
            }
            default -> {
                if (UNSUPPORTED_TAGS.contains(tag)) {
                    throw fail(t, "the '" + tag + "' tag is not supported in chat templates");
                }
                throw fail(t, "Encountered unknown tag '" + tag + "'.");
            }
        }
    }

    private Node parseFor() {
        Pos pos = next().pos();
        Node.Target target = parseAssignTarget(Set.of("in"));
        if (!skipName("in")) {
            throw fail(current(), "expected 'in', got '" + current().describe() + "'");
        }
        Expr iterable = parseTuple(false, Set.of("recursive"), false);
        Expr filter = skipName("if") ? parseExpression(true) : null;
        boolean recursive = skipName("recursive");
        loopDepth++;
        List<Node> body;
        try {
            body = parseStatements(Set.of("endfor", "else"), false);
        } finally {
            loopDepth--;
        }
        List<Node> elseBody = List.of();
        if (((String) next().value()).equals("else")) {
            elseBody = parseStatements(Set.of("endfor"), true);
        }
        return new Node.For(target, iterable, filter, body, elseBody, recursive, pos);
    }

    private Node parseIf() {
        next();
        List<Expr> tests = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> elseBody = List.of();
        while (true) {
            tests.add(parseTuple(false, Set.of(), false));
            bodies.add(parseStatements(Set.of("elif", "else", "endif"), false));
            String tag = (String) next().value();
            if (tag.equals("elif")) {
                continue;
            }
            if (tag.equals("else")) {
                elseBody = parseStatements(Set.of("endif"), true);
            }
            return new Node.If(tests, bodies, elseBody);
        }
    }

    private Node parseSet() {
        Pos pos = next().pos();
        Node.Target target;
        if (current().is(Token.Type.NAME) && look().isOperator(".")) {
            String name = expectName();
            next();
            target = new Node.Target.NamespaceAttr(name, expectName());
        } else {
            target = parseAssignTarget(Set.of());
        }
        if (skipOp("=")) {
            return new Node.Set(target, parseTuple(true, Set.of(), false), pos);
        }
        List<Expr.FilterCall> filters = parseFilterChain(false);
        return new Node.SetBlock(target, filters, parseDetachedStatements(Set.of("endset")), pos);
    }

    private Node parseMacro() {
        Pos pos = next().pos();
        String name = expectName();
        expectOp("(");
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        while (!current().isOperator(")")) {
            if (!params.isEmpty()) {
                expectOp(",");
            }
            Token param = current();
            params.add(expectName());
            if (skipOp("=")) {
                defaults.add(parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw fail(param, "non-default argument follows default argument");
            }
        }
        expectOp(")");
        return new Node.Macro(name, params, defaults, parseDetachedStatements(Set.of("endmacro")), pos);
    }

    private Node parseWith() {
        next();
        List<Node.Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().is(Token.Type.BLOCK_END)) {
            if (!targets.isEmpty()) {
                expectOp(",");
            }
            targets.add(parseAssignTarget(Set.of()));
            expectOp("=");
            values.add(parseExpression(true));
        }
        return new Node.With(targets, values, parseStatements(Set.of("endwith"), true));
    }

    /** A name or (nested, possibly parenthesized) tuple of names. */
    private Node.Target parseAssignTarget(Set<String> extraEnd) {
        List<Node.Target> items = new ArrayList<>();
        boolean tuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (isTupleEnd(extraEnd)) {
                break;
            }
            items.add(parseTargetPrimary());
            if (current().isOperator(",")) {
                tuple = true;
            } else {
                break;
            }
        }
        if (!tuple) {
            if (items.isEmpty()) {
                throw fail(current(), "expected an assignment target, got '" + current().describe() + "'");
            }
            return items.getFirst();
        }
        return new Node.Target.Unpack(items);
    }

    private Node.Target parseTargetPrimary() {
        Token t = current();
        if (t.isOperator("(")) {
            next();
            Node.Target inner = parseAssignTarget(Set.of());
            expectOp(")");
            return inner;
        }
        if (t.is(Token.Type.NAME) && !Set.of("true", "false", "none", "True", "False", "None").contains(
                (String) t.value())) {
            next();
            return new Node.Target.Name((String) t.value());
        }
        throw fail(t, "can't assign to '" + t.describe() + "'");
    }

    // ---------------------------------------------------------------- expressions

    private boolean isTupleEnd(Set<String> extraEnd) {
        Token t = current();
        return t.is(Token.Type.VARIABLE_END) || t.is(Token.Type.BLOCK_END) || t.isOperator(")")
                || (t.is(Token.Type.NAME) && extraEnd.contains((String) t.value()));
    }

    /** Jinja's parse_tuple: one expression, or a tuple when commas separate several. */
    private Expr parseTuple(boolean withCondexpr, Set<String> extraEnd, boolean explicitParentheses) {
        Pos pos = current().pos();
        List<Expr> items = new ArrayList<>();
        boolean tuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (isTupleEnd(extraEnd)) {
                break;
            }
            items.add(parseExpression(withCondexpr));
            if (current().isOperator(",")) {
                tuple = true;
            } else {
                break;
            }
        }
        if (!tuple) {
            if (!items.isEmpty()) {
                return items.getFirst();
            }
            if (!explicitParentheses) {
                throw fail(current(), "Expected an expression, got '" + current().describe() + "'");
            }
        }
        return new Expr.TupleLiteral(items, pos);
    }

    private Expr parseExpression(boolean withCondexpr) {
        return withCondexpr ? parseConditional() : parseOr();
    }

    private Expr parseConditional() {
        Pos pos = current().pos();
        Expr expr = parseOr();
        while (skipName("if")) {
            Expr test = parseOr();
            Expr otherwise = skipName("else") ? parseConditional() : null;
            expr = new Expr.Conditional(test, expr, otherwise, pos);
            pos = current().pos();
        }
        return expr;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (current().isName("or")) {
            Pos pos = next().pos();
            left = new Expr.Or(left, parseAnd(), pos);
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (current().isName("and")) {
            Pos pos = next().pos();
            left = new Expr.And(left, parseNot(), pos);
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            Pos pos = next().pos();
            return new Expr.Unary("not", parseNot(), pos);
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        Pos pos = current().pos();
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.is(Token.Type.OPERATOR) && COMPARE_OPS.contains((String) t.value())) {
                next();
                ops.add(switch ((String) t.value()) {
                    case "==" -> "eq";
                    case "!=" -> "ne";
                    case "<" -> "lt";
                    case "<=" -> "le";
                    case ">" -> "gt";
                    default -> "ge";
                });
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && look().isName("in")) {
                next();
                next();
                ops.add("notin");
            } else {
                break;
            }
            operands.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, operands, pos);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (current().isOperator("+") || current().isOperator("-")) {
            Token op = next();
            left = new Expr.Binary((String) op.value(), left, parseConcat(), op.pos());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMath2();
        while (current().isOperator("~")) {
            Token op = next();
            left = new Expr.Binary("~", left, parseMath2(), op.pos());
        }
        return left;
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (current().isOperator("*") || current().isOperator("/") || current().isOperator("//")
                || current().isOperator("%")) {
            Token op = next();
            left = new Expr.Binary((String) op.value(), left, parsePow(), op.pos());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (current().isOperator("**")) {
            Token op = next();
            left = power(left, parseUnary(true), op.pos());
        }
        return left;
    }

    /**
     * Jinja2 folds a constant base such as {@code -1} into a literal and emits Python source {@code (-1 ** x)}, which
     * Python reads as {@code -(1 ** x)}. When the exponent is not constant (so the power is not folded as a whole)
     * transformers therefore computes {@code -(|base| ** x)}; reproduce that.
     */
    private static Expr power(Expr base, Expr exponent, Pos pos) {
        Object folded = constant(base);
        if (folded != NOT_CONSTANT && constant(exponent) == NOT_CONSTANT && PyValues.isNumber(folded)
                && !(folded instanceof Boolean) && PyValues.compare("lt", folded, 0L)) {
            Expr magnitude = new Expr.Const(PyOps.negate(folded), base.pos());
            return new Expr.Unary("-", new Expr.Binary("**", magnitude, exponent, pos), base.pos());
        }
        return new Expr.Binary("**", base, exponent, pos);
    }

    private static final Object NOT_CONSTANT = new Object();

    /** Folds what Jinja2's optimizer folds of literals and operators, or returns {@link #NOT_CONSTANT}. */
    private static Object constant(Expr e) {
        try {
            switch (e) {
                case Expr.Const c -> {
                    return c.value();
                }
                case Expr.ListLiteral l -> {
                    List<Object> items = new ArrayList<>();
                    for (Expr item : l.items()) {
                        Object v = constant(item);
                        if (v == NOT_CONSTANT) {
                            return NOT_CONSTANT;
                        }
                        items.add(v);
                    }
                    return items;
                }
                case Expr.TupleLiteral t -> {
                    Object items = constant(new Expr.ListLiteral(t.items(), t.pos()));
                    return items == NOT_CONSTANT ? NOT_CONSTANT : new PyTuple((List<?>) items);
                }
                case Expr.DictLiteral d -> {
                    java.util.Map<Object, Object> map = new java.util.LinkedHashMap<>();
                    for (int i = 0; i < d.keys().size(); i++) {
                        Object k = constant(d.keys().get(i));
                        Object v = constant(d.values().get(i));
                        if (k == NOT_CONSTANT || v == NOT_CONSTANT) {
                            return NOT_CONSTANT;
                        }
                        PyValues.dictPut(map, k, v);
                    }
                    return map;
                }
                case Expr.Unary u -> {
                    Object v = constant(u.operand());
                    if (v == NOT_CONSTANT) {
                        return NOT_CONSTANT;
                    }
                    return switch (u.op()) {
                        case "not" -> !PyValues.truthy(v);
                        case "-" -> PyOps.negate(v);
                        default -> PyOps.plus(v);
                    };
                }
                case Expr.Binary b -> {
                    Object l = constant(b.left());
                    Object r = constant(b.right());
                    if (l == NOT_CONSTANT || r == NOT_CONSTANT) {
                        return NOT_CONSTANT;
                    }
                    return b.op().equals("~") ? PyValues.str(l) + PyValues.str(r) : PyOps.binary(b.op(), l, r);
                }
                default -> {
                    return NOT_CONSTANT;
                }
            }
        } catch (PyError notConstant) {
            return NOT_CONSTANT;
        }
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = current();
        Expr node;
        if (t.isOperator("-") || t.isOperator("+")) {
            next();
            node = new Expr.Unary((String) t.value(), parseUnary(false), t.pos());
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        return withFilter ? parseFilterExpr(node) : node;
    }

    private Expr parsePrimary() {
        Token t = current();
        switch (t.type()) {
            case NAME -> {
                next();
                return switch ((String) t.value()) {
                    case "true", "True" -> new Expr.Const(true, t.pos());
                    case "false", "False" -> new Expr.Const(false, t.pos());
                    case "none", "None" -> new Expr.Const(null, t.pos());
                    default -> new Expr.Name((String) t.value(), t.pos());
                };
            }
            case STRING -> {
                next();
                StringBuilder text = new StringBuilder((String) t.value());
                while (current().is(Token.Type.STRING)) {
                    text.append((String) next().value()); // adjacent literals concatenate, as in Python
                }
                return new Expr.Const(text.toString(), t.pos());
            }
            case INTEGER, FLOAT -> {
                next();
                return new Expr.Const(t.value(), t.pos());
            }
            case OPERATOR -> {
                if (t.isOperator("(")) {
                    next();
                    Expr inner = parseTuple(true, Set.of(), true);
                    expectOp(")");
                    return inner;
                }
                if (t.isOperator("[")) {
                    return parseList();
                }
                if (t.isOperator("{")) {
                    return parseDict();
                }
                throw fail(t, "unexpected '" + t.describe() + "'");
            }
            default -> throw fail(t, "unexpected '" + t.describe() + "'");
        }
    }

    private Expr parseList() {
        Pos pos = expectOp("[").pos();
        List<Expr> items = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (current().isOperator("]")) {
                break;
            }
            items.add(parseExpression(true));
        }
        expectOp("]");
        return new Expr.ListLiteral(items, pos);
    }

    private Expr parseDict() {
        Pos pos = expectOp("{").pos();
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOperator("}")) {
            if (!keys.isEmpty()) {
                expectOp(",");
            }
            if (current().isOperator("}")) {
                break;
            }
            keys.add(parseExpression(true));
            expectOp(":");
            values.add(parseExpression(true));
        }
        expectOp("}");
        return new Expr.DictLiteral(keys, values, pos);
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator(".") || t.isOperator("[")) {
                node = parseSubscript(node);
            } else if (t.isOperator("(")) {
                node = new Expr.Call(node, parseCallArgs(), node.pos());
            } else {
                return node;
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOperator("|")) {
                for (Expr.FilterCall filter : parseFilterChain(false)) {
                    node = new Expr.Filter(node, filter, filter.pos());
                }
            } else if (t.isName("is")) {
                node = parseTest(node);
            } else if (t.isOperator("(")) {
                node = new Expr.Call(node, parseCallArgs(), node.pos());
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = next();
        if (t.isOperator(".")) {
            Token attr = next();
            if (attr.is(Token.Type.NAME)) {
                return new Expr.GetAttr(node, (String) attr.value(), attr.pos());
            }
            if (attr.is(Token.Type.INTEGER)) {
                return new Expr.GetItem(node, new Expr.Const(attr.value(), attr.pos()), attr.pos());
            }
            throw fail(attr, "expected name or number");
        }
        List<Expr> args = new ArrayList<>();
        while (!current().isOperator("]")) {
            if (!args.isEmpty()) {
                expectOp(",");
            }
            args.add(parseSubscribed());
        }
        expectOp("]");
        Expr key = args.size() == 1 ? args.getFirst() : new Expr.TupleLiteral(args, t.pos());
        return new Expr.GetItem(node, key, t.pos());
    }

    private Expr parseSubscribed() {
        Pos pos = current().pos();
        Expr start = null;
        if (current().isOperator(":")) {
            next();
        } else {
            Expr node = parseExpression(true);
            if (!current().isOperator(":")) {
                return node;
            }
            next();
            start = node;
        }
        Expr stop = null;
        if (!current().isOperator(":") && !current().isOperator("]") && !current().isOperator(",")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (current().isOperator(":")) {
            next();
            if (!current().isOperator("]") && !current().isOperator(",")) {
                step = parseExpression(true);
            }
        }
        return new Expr.Slice(start, stop, step, pos);
    }

    private Expr.CallArgs parseCallArgs() {
        Token open = expectOp("(");
        List<Expr> positional = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        Expr starArgs = null;
        Expr starKwargs = null;
        boolean requireComma = false;
        while (!current().isOperator(")")) {
            if (requireComma) {
                expectOp(",");
                if (current().isOperator(")")) {
                    break; // trailing comma
                }
            }
            if (current().isOperator("*")) {
                ensure(starArgs == null && starKwargs == null, open);
                next();
                starArgs = parseExpression(true);
            } else if (current().isOperator("**")) {
                ensure(starKwargs == null, open);
                next();
                starKwargs = parseExpression(true);
            } else if (current().is(Token.Type.NAME) && look().isOperator("=")) {
                ensure(starKwargs == null, open);
                String name = (String) next().value();
                next();
                names.add(name);
                values.add(parseExpression(true));
            } else {
                ensure(starArgs == null && starKwargs == null && names.isEmpty(), open);
                positional.add(parseExpression(true));
            }
            requireComma = true;
        }
        expectOp(")");
        return new Expr.CallArgs(positional, names, values, starArgs, starKwargs);
    }

    private static void ensure(boolean ok, Token at) {
        if (!ok) {
            throw fail(at, "invalid syntax for function call expression");
        }
    }

    private String dottedName() {
        StringBuilder name = new StringBuilder(expectName());
        while (current().isOperator(".")) {
            next();
            name.append('.').append(expectName());
        }
        return name.toString();
    }

    /** {@code |a|b(x)}; with {@code startInline} the first filter has no leading pipe (filter blocks). */
    private List<Expr.FilterCall> parseFilterChain(boolean startInline) {
        List<Expr.FilterCall> filters = new ArrayList<>();
        while (current().isOperator("|") || startInline) {
            if (!startInline) {
                next();
            }
            startInline = false;
            Token nameToken = current();
            String name = dottedName();
            Expr.CallArgs args = current().isOperator("(") ? parseCallArgs() : Expr.CallArgs.NONE;
            filters.add(new Expr.FilterCall(name, args, nameToken.pos()));
        }
        return filters;
    }

    private Expr parseTest(Expr node) {
        next(); // 'is'
        boolean negated = skipName("not");
        Token nameToken = current();
        String name = dottedName();
        Expr.CallArgs args = Expr.CallArgs.NONE;
        Token t = current();
        if (t.isOperator("(")) {
            args = parseCallArgs();
        } else if ((t.is(Token.Type.NAME) || t.is(Token.Type.STRING) || t.is(Token.Type.INTEGER)
                || t.is(Token.Type.FLOAT) || t.isOperator("[") || t.isOperator("{"))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            // Jinja allows one argument without parentheses: `x is divisibleby 3`, `x is sameas false`.
            if (t.isName("is")) {
                throw fail(t, "You cannot chain multiple tests with is");
            }
            Expr arg = parsePostfix(parsePrimary());
            args = new Expr.CallArgs(List.of(arg), List.of(), List.of(), null, null);
        }
        Expr test = new Expr.Test(node, name, args, nameToken.pos());
        return negated ? new Expr.Unary("not", test, nameToken.pos()) : test;
    }

    /**
     * Jinja2 rejects unknown filter and test names at compile time, except inside an {@code if} (its tests and the
     * statements directly in its branches) or an inline {@code x if c else y}, where the error is deferred to when the
     * filter actually runs. Loop bodies, macros, {@code with} and block bodies start a new, strict frame.
     */
    private static final class NameCheck {

        void statements(List<Node> body, boolean soft) {
            for (Node node : body) {
                statement(node, soft);
            }
        }

        private void statement(Node node, boolean soft) {
            switch (node) {
                case Node.Output output -> expr(output.expr(), soft);
                case Node.If branch -> {
                    branch.tests().forEach(t -> expr(t, true));
                    branch.bodies().forEach(b -> statements(b, true));
                    statements(branch.elseBody(), true);
                }
                case Node.For loop -> {
                    expr(loop.iterable(), soft);
                    if (loop.filter() != null) {
                        expr(loop.filter(), false);
                    }
                    statements(loop.body(), false);
                    statements(loop.elseBody(), false);
                }
                case Node.Set set -> expr(set.value(), soft);
                case Node.SetBlock set -> {
                    set.filters().forEach(f -> filter(f, false));
                    statements(set.body(), false);
                }
                case Node.Macro macro -> {
                    macro.defaults().forEach(d -> expr(d, false));
                    statements(macro.body(), false);
                }
                case Node.FilterBlock block -> {
                    block.filters().forEach(f -> filter(f, false));
                    statements(block.body(), false);
                }
                case Node.With with -> {
                    with.values().forEach(v -> expr(v, soft));
                    statements(with.body(), false);
                }
                case Node.Scoped scoped -> statements(scoped.body(), false);
                default -> {
                }
            }
        }

        private void filter(Expr.FilterCall filter, boolean soft) {
            if (!soft && !Filters.exists(filter.name())) {
                throw filter.pos().error("No filter named '" + filter.name() + "'.");
            }
            args(filter.args(), soft);
        }

        private void args(Expr.CallArgs args, boolean soft) {
            args.positional().forEach(a -> expr(a, soft));
            args.keywordValues().forEach(a -> expr(a, soft));
            if (args.starArgs() != null) {
                expr(args.starArgs(), soft);
            }
            if (args.starKwargs() != null) {
                expr(args.starKwargs(), soft);
            }
        }

        private void expr(Expr e, boolean soft) {
            switch (e) {
                case Expr.Filter f -> {
                    expr(f.target(), soft);
                    filter(f.filter(), soft);
                }
                case Expr.Test t -> {
                    expr(t.target(), soft);
                    if (!soft && !Tests.exists(t.name())) {
                        throw t.pos().error("No test named '" + t.name() + "'.");
                    }
                    args(t.args(), soft);
                }
                case Expr.Conditional c -> {
                    expr(c.test(), true);
                    expr(c.then(), true);
                    if (c.otherwise() != null) {
                        expr(c.otherwise(), true);
                    }
                }
                case Expr.ListLiteral l -> l.items().forEach(i -> expr(i, soft));
                case Expr.TupleLiteral t -> t.items().forEach(i -> expr(i, soft));
                case Expr.DictLiteral d -> {
                    d.keys().forEach(k -> expr(k, soft));
                    d.values().forEach(v -> expr(v, soft));
                }
                case Expr.GetAttr g -> expr(g.target(), soft);
                case Expr.GetItem g -> {
                    expr(g.target(), soft);
                    expr(g.key(), soft);
                }
                case Expr.Slice s -> {
                    for (Expr part : new Expr[] {s.start(), s.stop(), s.step()}) {
                        if (part != null) {
                            expr(part, soft);
                        }
                    }
                }
                case Expr.Call c -> {
                    expr(c.callee(), soft);
                    args(c.args(), soft);
                }
                case Expr.Unary u -> expr(u.operand(), soft);
                case Expr.Binary b -> {
                    expr(b.left(), soft);
                    expr(b.right(), soft);
                }
                case Expr.And a -> {
                    expr(a.left(), soft);
                    expr(a.right(), soft);
                }
                case Expr.Or o -> {
                    expr(o.left(), soft);
                    expr(o.right(), soft);
                }
                case Expr.Compare c -> {
                    expr(c.first(), soft);
                    c.operands().forEach(x -> expr(x, soft));
                }
                case Expr.Const c -> {
                }
                case Expr.Name n -> {
                }
            }
        }
    }
}
