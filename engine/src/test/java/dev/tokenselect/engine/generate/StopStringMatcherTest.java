package dev.tokenselect.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class StopStringMatcherTest {

    @Test
    void stopSplitAcrossDeltasIsNeverReleased() {
        StopStringMatcher m = new StopStringMatcher(List.of("</answer>"));
        StringBuilder out = new StringBuilder();
        for (String d : List.of("The answer is 4", "</ans", "wer> and more")) {
            out.append(m.push(d));
        }
        assertTrue(m.stopped());
        assertEquals("The answer is 4", out.toString());
        assertEquals("The answer is 4", m.text());
        assertEquals("", m.push("ignored"));
    }

    @Test
    void heldBackPrefixIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopStringMatcher m = new StopStringMatcher(List.of("STOP"));
        assertEquals("go ", m.push("go ST"));
        assertEquals("STAY", m.push("AY"));
        assertEquals("", m.push("S"));
        assertEquals("S", m.flush());
        assertFalse(m.stopped());
        assertEquals("go STAYS", m.text());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopStringMatcher m = new StopStringMatcher(List.of("bb", "a"));
        assertEquals("x", m.push("xbba"));
        assertEquals("x", m.text());
        StopStringMatcher n = new StopStringMatcher(List.of());
        assertEquals("anything", n.push("anything"));
    }
}
