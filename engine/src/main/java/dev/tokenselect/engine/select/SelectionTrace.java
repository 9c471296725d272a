package dev.tokenselect.engine.select;

/**
 * Sees every selection a TokenSelect policy makes on the host, for diagnostics: which tokens one layer
 * attends to for one prefill chunk or decode step.
 */
@FunctionalInterface
public interface SelectionTrace {

    SelectionTrace NONE = (layer, decoding, cachedLength, selected) -> { };

    /**
     * @param cachedLength the tokens in the cache including the chunk or step
     * @param selected     the attended token indices, ascending (sinks, chosen, local window), or null
     *                     when the budget covers the whole cache and every token is attended
     */
    void selected(int layer, boolean decoding, int cachedLength, int[] selected);
}
