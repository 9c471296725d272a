package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.TinyModels;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/** Ordinary requests share their common prefix automatically and answer exactly as without it. */
class SharedPrefixGeneratorTest {

    @TempDir
    Path dir;

    private static int[] prompt(int[] shared, long seed, int extra) {
        Random r = new Random(seed);
        int[] p = java.util.Arrays.copyOf(shared, shared.length + extra);
        for (int i = shared.length; i < p.length; i++) {
            p[i] = 1 + r.nextInt(500);
        }
        return p;
    }

    @Test
    void theSecondRequestPrefillsOnlyWhatItAdds() throws Exception {
        try (Model model = Model.load(TinyModels.write(dir, TinyModels.qwen3Config(), DType.BF16, 1));
             CpuBackend backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(16));
             PrefixCache cache = new PrefixCache(KvAccess.of(backend))) {
            Generator generator = new Generator(backend, null, Set.of(), 64);
            SharedPrefixGenerator shared = new SharedPrefixGenerator(backend, generator, cache, ModelFingerprint.of(model), 64);
            int[] system = prompt(new int[0], 1, 200); // a long common prefix (a system prompt, a document)
            SamplingParams params = SamplingParams.builder().maxTokens(8).ignoreEos(true).build();
            for (AttentionSpec spec : new AttentionSpec[] {AttentionSpec.full(),
                    AttentionSpec.tokenSelect(new SelectionParams(32, 4, 64, 2.0, 64))}) {
                int[] first = prompt(system, 2, 30);
                int[] second = prompt(system, 3, 25);
                SharedPrefixGenerator.Result a = shared.generate(spec, "tenant-a", first, params, TokenListener.NONE);
                SharedPrefixGenerator.Result b = shared.generate(spec, "tenant-a", second, params, TokenListener.NONE);
                assertEquals(0, a.cachedPrefixTokens(), spec.name() + ": a cold cache");
                // 200 common tokens: 12 full blocks of 16 (192 tokens), which is also a multiple of TokenSelect's chunk of 64
                int expectedShared = 192;
                assertEquals(expectedShared, b.cachedPrefixTokens(), spec.name());
                assertEquals(second.length - expectedShared, b.prefilledTokens());
                GenerationResult alone = generator.generate(spec, second, params, TokenListener.NONE);
                assertArrayEquals(alone.ids(), b.generation().ids(), spec.name() + ": same tokens as without the cache");
                // another tenant shares nothing
                SharedPrefixGenerator.Result c = shared.generate(spec, "tenant-b", second, params, TokenListener.NONE);
                assertEquals(0, c.cachedPrefixTokens());
                assertArrayEquals(alone.ids(), c.generation().ids());
                assertTrue(b.stats().containsKey("cached_prefix_tokens"));
            }
        }
    }
}
