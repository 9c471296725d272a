package dev.tokenselect.engine.template;

import java.util.List;
import java.util.function.Function;

/**
 * The {@code loop} variable inside a for loop: index/index0/revindex/revindex0/first/last/length/depth/depth0,
 * previtem/nextitem, cycle(...), changed(...), and {@code loop(children)} for recursive loops.
 */
final class LoopContext implements PyCallable {

    private static final Object NOTHING = new Object();

    private final List<Object> items;
    private final int depth0;
    private final Function<Object, String> recurse;
    private int index0 = -1;
    private Object lastChanged = NOTHING;

    LoopContext(List<Object> items, int depth0, Function<Object, String> recurse) {
        this.items = items;
        this.depth0 = depth0;
        this.recurse = recurse;
    }

    void advance() {
        index0++;
    }

    int index0() {
        return index0;
    }

    int length() {
        return items.size();
    }

    Object attribute(String name) {
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (items.size() - index0);
            case "revindex0" -> (long) (items.size() - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == items.size() - 1;
            case "length" -> (long) items.size();
            case "depth" -> (long) depth0 + 1;
            case "depth0" -> (long) depth0;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : Undefined.hint("there is no previous item");
            case "nextitem" -> index0 + 1 < items.size() ? items.get(index0 + 1)
                    : Undefined.hint("there is no next item");
            case "cycle" -> new PyCallable() {
                @Override
                public Object call(Interpreter interpreter, Args args) {
                    if (args.size() == 0) {
                        throw PyError.type("no items for cycling given");
                    }
                    return args.positional.get(index0 % args.size());
                }

                @Override
                public String name() {
                    return "loop.cycle";
                }
            };
            case "changed" -> new PyCallable() {
                @Override
                public Object call(Interpreter interpreter, Args args) {
                    PyTuple value = new PyTuple(args.positional);
                    if (lastChanged == NOTHING || !PyValues.eq(lastChanged, value)) {
                        lastChanged = value;
                        return true;
                    }
                    return false;
                }

                @Override
                public String name() {
                    return "loop.changed";
                }
            };
            default -> PyValues.MISSING;
        };
    }

    @Override
    public Object call(Interpreter interpreter, Args args) {
        if (recurse == null) {
            throw PyError.type("The loop must have the 'recursive' marker to be called recursively.");
        }
        args.check("loop", "iterable");
        return recurse.apply(args.required(0, "iterable", "loop"));
    }

    @Override
    public String name() {
        return "loop";
    }
}
