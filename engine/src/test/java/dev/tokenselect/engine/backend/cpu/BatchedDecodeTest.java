package dev.tokenselect.engine.backend.cpu;

import static dev.tokenselect.engine.backend.cpu.ReferenceFixture.argmax;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.backend.KvCapacityException;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/** Several sequences decoded in one pass give exactly what each gives alone. */
class BatchedDecodeTest {

    @TempDir
    Path dir;

    @Test
    void batchedStepsEqualSeparateStepsBitForBit() throws Exception {
        ReferenceFixture f = ReferenceFixture.load("tokenselect", "ts_qwen2");
        int[] prompt = f.promptIds();
        AttentionSpec[] specs = {AttentionSpec.full(),
                AttentionSpec.tokenSelect(new SelectionParams(32, 4, 32, 2.0, 32)),
                AttentionSpec.tokenSelect(new SelectionParams(48, 8, 64, 0.5, 64)),
                AttentionSpec.full()};
        int[] lengths = {300, prompt.length, 900, 17};
        try (Model model = Model.load(f.write(dir)); CpuBackend backend = new CpuBackend(model)) {
            List<Sequence> batched = new ArrayList<>();
            List<Sequence> alone = new ArrayList<>();
            int[] next = new int[specs.length];
            for (int i = 0; i < specs.length; i++) {
                int[] p = Arrays.copyOf(prompt, lengths[i]);
                Sequence a = backend.newSequence(specs[i]);
                Sequence b = backend.newSequence(specs[i]);
                float[] la = backend.forward(a, p);
                assertArrayEquals(la, backend.forward(b, p));
                batched.add(a);
                alone.add(b);
                next[i] = argmax(la);
            }
            for (int step = 0; step < 12; step++) {
                float[][] together = backend.decode(batched, next);
                for (int i = 0; i < specs.length; i++) {
                    float[] single = backend.forward(alone.get(i), new int[] {next[i]}, true);
                    assertArrayEquals(single, together[i], "sequence " + i + ", step " + step);
                    next[i] = argmax(single);
                }
            }
            for (int i = 0; i < specs.length; i++) {
                assertEquals(alone.get(i).length(), batched.get(i).length());
                assertEquals(alone.get(i).selectionStats().toMap(), batched.get(i).selectionStats().toMap());
            }
            assertThrows(IllegalArgumentException.class,
                    () -> backend.decode(List.of(batched.get(0), batched.get(0)), new int[] {1, 2}));
            batched.forEach(Sequence::close);
            alone.forEach(Sequence::close);
        }
    }

    @Test
    void aBatchThatDoesNotFitChangesNothing() throws Exception {
        ReferenceFixture f = ReferenceFixture.load("qwen3");
        int[] prompt = f.promptIds();
        try (Model model = Model.load(f.write(dir));
             CpuBackend backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(8)
                     .withKvCapacityTokens(64))) {
            Sequence b = backend.newSequence();
            Sequence a = backend.newSequence();
            backend.forward(b, Arrays.copyOf(prompt, 31)); // 4 blocks, one free slot: b's step fits
            backend.forward(a, Arrays.copyOf(prompt, 32)); // 4 full blocks: a's step needs a ninth block
            assertEquals(0, backend.kvPool().allocator().freeBlocks());
            var e = assertThrows(KvCapacityException.class, () -> backend.decode(List.of(b, a), new int[] {3, 4}));
            assertEquals(31, b.length(), "b's reservation was rolled back with a's failure");
            assertEquals(32, a.length());
            a.close();
            // with room again the same step goes through and equals single steps
            float[] together = backend.decode(List.of(b), new int[] {3})[0];
            assertEquals(32, b.length());
            b.close();
            assertEquals(model.config().vocabSize(), together.length);
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("KV cache full"));
        }
    }
}
