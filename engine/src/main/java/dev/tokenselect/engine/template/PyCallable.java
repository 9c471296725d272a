package dev.tokenselect.engine.template;

/** Anything a template can call: globals such as {@code raise_exception}, macros, bound methods. */
interface PyCallable {

    Object call(Interpreter interpreter, Args args);

    /** Used by repr() and error messages. */
    String name();
}
