package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

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
        assertFalse(EvalCommand.rulerPlot("exact"));
        assertTrue(EvalCommand.rulerPlot(" RULER "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalCommand.rulerPlot("partial"));
        assertTrue(e.getMessage().contains("exact") && e.getMessage().contains("ruler"), e.getMessage());
    }
}
