/**
 * Hugging Face chat templates rendered exactly as transformers renders them.
 *
 * <p>transformers runs {@code chat_template} through Jinja2's {@code ImmutableSandboxedEnvironment} with
 * {@code trim_blocks}, {@code lstrip_blocks} and loop controls, adding {@code raise_exception}, {@code strftime_now},
 * a {@code json.dumps}-based {@code tojson} and the {@code generation} tag. This package is a small Jinja2
 * interpreter for that dialect with Python value semantics (repr, int/float arithmetic, code-point strings, str/dict
 * methods) so that the rendered prompt, and therefore the token ids, match byte for byte.
 *
 * <p>Entry point: {@link dev.tokenselect.engine.template.ChatTemplate}. Pipeline: {@code Lexer} (whitespace control)
 * → {@code Parser} (AST of {@code Node}/{@code Expr}) → {@code ScopeAnalysis} (Jinja2's compile-time scoping) →
 * {@code Interpreter}, over the value layer {@code PyValues}/{@code PyOps}/{@code PyStrings}/{@code PyFormat}/
 * {@code PyJson} with {@code Filters}, {@code Tests}, {@code Methods} and {@code Globals}.
 */
package dev.tokenselect.engine.template;
