package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaSwitchTest {

    private static final String NAME = "switchUnderTest";
    private static final String PROPERTY = "tokenselect.cuda." + NAME;

    @Test
    void unsetGivesTheDefaultAndTrueOrFalseTheirValue() {
        try {
            System.clearProperty(PROPERTY);
            assertTrue(CudaSwitch.flag(NAME, true));
            assertEquals(false, CudaSwitch.flag(NAME, false));
            System.setProperty(PROPERTY, " FALSE ");
            assertEquals(false, CudaSwitch.flag(NAME, true));
            System.setProperty(PROPERTY, "true");
            assertTrue(CudaSwitch.flag(NAME, false));
        } finally {
            System.clearProperty(PROPERTY);
        }
    }

    @Test
    void aTypoIsRefusedWithTheSettingNamedNotReadAsTheDefault() {
        try {
            System.setProperty(PROPERTY, "flase");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CudaSwitch.flag(NAME, true));
            assertTrue(e.getMessage().contains(PROPERTY) && e.getMessage().contains("flase")
                    && e.getMessage().contains("true or false"), e.getMessage());
        } finally {
            System.clearProperty(PROPERTY);
        }
    }
}
