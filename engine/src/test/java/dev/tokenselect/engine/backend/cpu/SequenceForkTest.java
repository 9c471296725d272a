package dev.tokenselect.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.select.AttentionSpec;

/** A fork shares the source's full blocks and continues exactly as a fresh sequence would. */
class SequenceForkTest {

    @TempDir
    Path dir;

    @Test
    void forkContinuesLikeAFreshSequenceAndLeavesTheSourceAlone() throws Exception {
        ReferenceFixture f = ReferenceFixture.load("qwen3");
        int[] prompt = f.promptIds();
        try (Model model = Model.load(f.write(dir));
             CpuBackend backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(16))) {
            int used = backend.kvPool().allocator().usedBlocks();
            try (Sequence source = backend.newSequence()) {
                backend.forward(source, prompt);
                for (int cut : new int[] {32, 45, prompt.length}) {
                    int[] next = {prompt[cut % prompt.length], 11, 12};
                    float[] viaFork;
                    try (Sequence fork = backend.fork(source, cut, AttentionSpec.full())) {
                        assertEquals(cut, fork.length());
                        viaFork = backend.forward(fork, next);
                    }
                    float[] fresh;
                    try (Sequence s = backend.newSequence()) {
                        int[] all = Arrays.copyOf(prompt, cut + next.length);
                        System.arraycopy(next, 0, all, cut, next.length);
                        fresh = backend.forward(s, all);
                    }
                    assertArrayEquals(fresh, viaFork, "fork at " + cut);
                }
                // the source still continues as if nothing happened
                float[] a = backend.forward(source, new int[] {5});
                try (Sequence s = backend.newSequence()) {
                    int[] all = Arrays.copyOf(prompt, prompt.length + 1);
                    all[prompt.length] = 5;
                    assertArrayEquals(backend.forward(s, all), a);
                }
                assertThrows(IllegalArgumentException.class, () -> backend.fork(source, prompt.length + 2, AttentionSpec.full()));
            }
            assertEquals(used, backend.kvPool().allocator().usedBlocks(), "every block returned");
        }
    }
}
