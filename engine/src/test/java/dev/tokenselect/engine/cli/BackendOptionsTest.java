package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    @Test
    void hostMemoryForKvIsGivenInGibAndRefusedBelowZero() {
        EngineOptions plain = CommandLine.populateCommand(new BackendOptions(), "--backend", "cuda").engineOptions();
        assertEquals(0, plain.kvHostBytes());
        EngineOptions host = CommandLine.populateCommand(new BackendOptions(), "--backend", "cuda", "--key-sketches",
                "--kv-host-gib", "1.5").engineOptions();
        assertEquals(3L << 29, host.kvHostBytes());
        assertTrue(host.keySketches());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CommandLine.populateCommand(
                new BackendOptions(), "--kv-host-gib", "-2").engineOptions());
        assertTrue(e.getMessage().contains("GiB") && e.getMessage().contains("-2"), e.getMessage());
    }
}
