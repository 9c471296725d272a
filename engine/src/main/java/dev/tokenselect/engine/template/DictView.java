package dev.tokenselect.engine.template;

import java.util.List;

/**
 * The result of {@code dict.items()/keys()/values()}: sized and iterable (any number of times) but not subscriptable,
 * printed like Python ({@code dict_items([('a', 1)])}).
 */
record DictView(String kind, List<Object> items) {
}
