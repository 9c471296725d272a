package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
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
}
