package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.EngineOptions;
import picocli.CommandLine;

class BackendOptionsTest {

    @Test
    void keySketchesAreOffUnlessAskedFor() {
        EngineOptions plain = CommandLine.populateCommand(new BackendOptions(), "--backend", "cuda").engineOptions();
        assertFalse(plain.keySketches());
        EngineOptions sketched = CommandLine.populateCommand(new BackendOptions(), "--backend", "cuda", "--device", "1",
                "--kv-tokens", "65536", "--block-size", "16", "--key-sketches").engineOptions();
        assertTrue(sketched.keySketches());
        assertEquals(new EngineOptions("cuda", 1, 0, 65536, 16).withKeySketches(true), sketched);
        assertEquals(EngineOptions.DEFAULT_KV_MEMORY_FRACTION, sketched.kvMemoryFraction());
    }
}
