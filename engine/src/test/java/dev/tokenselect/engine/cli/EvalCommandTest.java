package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.eval.Score;

class EvalCommandTest {

    @Test
    void plotIsRefusedUpFrontWhereTheRuntimeCannotDrawIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EvalCommand.requirePlotSupport(ModuleLayer.empty()));
        assertTrue(e.getMessage().contains("java.desktop"), e.getMessage());
        assertTrue(e.getMessage().contains("--replay"), e.getMessage());
    }

    @Test
    void plotIsAcceptedOnAFullJdk() {
        assertDoesNotThrow(() -> EvalCommand.requirePlotSupport(ModuleLayer.boot()));
    }

    @Test
    void plotScoreTakesExactOrRulerAndNamesThemOtherwise() {
        assertEquals(Score.EXACT, Score.parse("exact"));
        assertEquals(Score.RULER, Score.parse(" RULER "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Score.parse("partial"));
        assertTrue(e.getMessage().contains("exact") && e.getMessage().contains("ruler"), e.getMessage());
    }
}
