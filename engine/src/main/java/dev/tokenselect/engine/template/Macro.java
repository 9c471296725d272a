package dev.tokenselect.engine.template;

/** A {@code {% macro %}} value: calling it renders its body in a fresh scope that sees where it was defined. */
final class Macro implements PyCallable {

    final Node.Macro definition;
    final Interpreter.Scope closure;

    Macro(Node.Macro definition, Interpreter.Scope closure) {
        this.definition = definition;
        this.closure = closure;
    }

    @Override
    public Object call(Interpreter interpreter, Args args) {
        return interpreter.callMacro(this, args);
    }

    @Override
    public String name() {
        return definition.name();
    }
}
