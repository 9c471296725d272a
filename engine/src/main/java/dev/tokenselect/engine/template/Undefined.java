package dev.tokenselect.engine.template;

/**
 * Jinja2's default {@code Undefined}: renders as "", is falsy, iterates as empty and has length 0, equals only another
 * Undefined; any other use (attribute/item access, arithmetic, ordering, calling) raises an error that explains why the
 * value is missing.
 */
final class Undefined {

    private static final Object NO_OWNER = new Object();

    private final String hint;
    private final Object owner;
    private final Object name;
    private final String errorKind;

    private Undefined(String hint, Object owner, Object name, String errorKind) {
        this.hint = hint;
        this.owner = owner;
        this.name = name;
        this.errorKind = errorKind;
    }

    /** A variable that is not defined anywhere. */
    static Undefined variable(String name) {
        return new Undefined(null, NO_OWNER, name, "UndefinedError");
    }

    /** A missing attribute or item of {@code owner}. */
    static Undefined member(Object owner, Object name) {
        return new Undefined(null, owner, name, "UndefinedError");
    }

    /** An undefined value with a custom explanation (e.g. "No first item, sequence was empty."). */
    static Undefined hint(String hint) {
        return new Undefined(hint, NO_OWNER, null, "UndefinedError");
    }

    /** What the sandbox returns for a mutating method such as {@code list.append}: using it is a SecurityError. */
    static Undefined unsafe(Object owner, String attribute) {
        return new Undefined("access to attribute '" + attribute + "' of '" + PyValues.typeName(owner)
                + "' object is unsafe.", owner, attribute, "SecurityError");
    }

    String message() {
        if (hint != null) {
            return hint;
        }
        if (owner == NO_OWNER) {
            return PyValues.repr(name) + " is undefined";
        }
        if (!(name instanceof String)) {
            return objectTypeRepr(owner) + " has no element " + PyValues.repr(name);
        }
        return PyValues.repr(objectTypeRepr(owner)) + " has no attribute " + PyValues.repr(name);
    }

    private static String objectTypeRepr(Object obj) {
        if (obj == null) {
            return "None";
        }
        return switch (obj) {
            case Namespace ns -> "jinja2.utils.Namespace object";
            case LoopContext loop -> "jinja2.runtime.LoopContext object";
            default -> PyValues.typeName(obj) + " object";
        };
    }

    /** The error to raise when this value is used in a way Undefined does not allow. */
    PyError fail() {
        return new PyError(errorKind, message());
    }

    @Override
    public String toString() {
        return "";
    }
}
