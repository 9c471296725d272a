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

    /** A prefix used twice is persisted; after a restart it is read back instead of prefilled. */
    @Test
    void aReusedPrefixSurvivesARestart() throws Exception {
        Path cacheDir = dir.resolve("kv");
        java.nio.file.Files.createDirectories(cacheDir);
        Path modelDir = TinyModels.write(dir.resolve("m"), TinyModels.qwen3Config(), DType.BF16, 1);
        int[] system = prompt(new int[0], 7, 200);
        SamplingParams params = SamplingParams.builder().maxTokens(6).ignoreEos(true).build();
        AttentionSpec spec = AttentionSpec.full();
        int[] expected;
        try (EngineProcess process = new EngineProcess(modelDir, cacheDir)) {
            Generator generator = process.generator;
            PersistentPrefixes disk = process.disk;
            SharedPrefixGenerator shared = process.shared;
            assertEquals(0, shared.generate(spec, "", prompt(system, 8, 20), params, TokenListener.NONE).cachedPrefixTokens());
            SharedPrefixGenerator.Result second = shared.generate(spec, "", prompt(system, 9, 20), params, TokenListener.NONE);
            assertEquals(192, second.cachedPrefixTokens());
            assertEquals(1, disk.store().segments().size(), "the reused prefix was written once");
            expected = generator.generate(spec, prompt(system, 10, 33), params, TokenListener.NONE).ids();
        }
        // a new process: empty KV cache, the same directory
        try (EngineProcess process = new EngineProcess(modelDir, cacheDir)) {
            Generator generator = process.generator;
            PersistentPrefixes disk = process.disk;
            SharedPrefixGenerator shared = process.shared;
            int[] third = prompt(system, 10, 33);
            SharedPrefixGenerator.Result r = shared.generate(spec, "", third, params, TokenListener.NONE);
            assertEquals(192, r.restoredTokens(), "read back from disk");
            assertEquals(192, r.cachedPrefixTokens());
            assertEquals(third.length - 192, r.prefilledTokens());
            assertArrayEquals(expected, r.generation().ids(), "the same tokens as a full prefill");
            // another tenant finds nothing on disk
            SharedPrefixGenerator.Result other = shared.generate(spec, "tenant-x", third, params, TokenListener.NONE);
            assertEquals(0, other.restoredTokens());
            assertEquals(0, other.cachedPrefixTokens());
        }
    }

    /**
     * A persisted segment that is not a prefix of the prompt still gives the blocks they share: after a
     * restart only those are read from disk (checked block by block) and the answer is unchanged.
     */
    @Test
    void aSegmentThatDivergesFromThePromptStillGivesItsSharedBlocks() throws Exception {
        Path cacheDir = dir.resolve("kv-partial");
        java.nio.file.Files.createDirectories(cacheDir);
        Path modelDir = TinyModels.write(dir.resolve("m2"), TinyModels.qwen3Config(), DType.BF16, 2);
        int[] document = prompt(new int[0], 21, 300);
        SamplingParams params = SamplingParams.builder().maxTokens(6).ignoreEos(true).build();
        AttentionSpec spec = AttentionSpec.full();
        // the new prompt keeps the document's first 170 tokens and goes on differently: 10 shared blocks of 16
        int[] edited = prompt(java.util.Arrays.copyOf(document, 170), 22, 90);
        FirstRun first = persistDocument(modelDir, cacheDir, document, 23, edited, params);
        assertEquals(288, first.secondCachedPrefix());
        assertEquals(1, first.segments(), "the document's 288 tokens were persisted");
        int[] expected = first.editedAnswer();
        try (EngineProcess process = new EngineProcess(modelDir, cacheDir)) {
            SharedPrefixGenerator shared = process.shared;
            PersistentPrefixes disk = process.disk;
            SharedPrefixGenerator.Result r = shared.generate(spec, "", edited, params, TokenListener.NONE);
            assertEquals(160, r.restoredTokens(), "the 10 shared blocks were read back");
            assertEquals(160, r.cachedPrefixTokens());
            assertEquals(edited.length - 160, r.prefilledTokens());
            assertArrayEquals(expected, r.generation().ids(), "the same tokens as a full prefill");
            assertEquals(10, disk.restoredBlocks());
            // another tenant's prompt with the same tokens shares nothing on disk
            assertEquals(0, shared.generate(spec, "tenant-x", edited, params, TokenListener.NONE).restoredTokens());
        }
    }

    /** A flipped byte in one of the shared blocks: the file is discarded and the prompt prefilled, same answer. */
    @Test
    void aCorruptSharedBlockIsNeverServed() throws Exception {
        Path cacheDir = dir.resolve("kv-corrupt");
        java.nio.file.Files.createDirectories(cacheDir);
        Path modelDir = TinyModels.write(dir.resolve("m3"), TinyModels.qwen3Config(), DType.BF16, 3);
        int[] document = prompt(new int[0], 31, 300);
        SamplingParams params = SamplingParams.builder().maxTokens(6).ignoreEos(true).build();
        AttentionSpec spec = AttentionSpec.full();
        int[] edited = prompt(java.util.Arrays.copyOf(document, 170), 32, 90);
        int[] expected = persistDocument(modelDir, cacheDir, document, 33, edited, params).editedAnswer();
        Path segment;
        try (var files = java.nio.file.Files.list(cacheDir)) {
            segment = files.filter(p -> p.toString().endsWith(".kvseg")).findFirst().orElseThrow();
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(segment);
        bytes[bytes.length / 3] ^= 0x10; // inside one of the first ten blocks' data
        java.nio.file.Files.write(segment, bytes);
        try (EngineProcess process = new EngineProcess(modelDir, cacheDir)) {
            PersistentPrefixes disk = process.disk;
            SharedPrefixGenerator.Result r = process.shared.generate(spec, "", edited, params, TokenListener.NONE);
            assertEquals(0, r.restoredTokens());
            assertEquals(0, r.cachedPrefixTokens());
            assertArrayEquals(expected, r.generation().ids());
            assertEquals(1, disk.discarded(), "the corrupt file was discarded");
            assertTrue(disk.store().segments().isEmpty());
        }
    }

    /** What a first process saw: the second prompt's cached prefix, the segments on disk, the answer to the edited prompt. */
    private record FirstRun(int secondCachedPrefix, int segments, int[] editedAnswer) {
    }

    /**
     * A first process answers two prompts that start with {@code document} (seeds {@code seed} and
     * {@code seed + 1}), so its prefix is persisted, and answers {@code edited} by a plain prefill.
     */
    private static FirstRun persistDocument(Path modelDir, Path cacheDir, int[] document, long seed, int[] edited,
                                            SamplingParams params) {
        AttentionSpec spec = AttentionSpec.full();
        try (EngineProcess process = new EngineProcess(modelDir, cacheDir)) {
            process.shared.generate(spec, "", prompt(document, seed, 10), params, TokenListener.NONE);
            int cached = process.shared.generate(spec, "", prompt(document, seed + 1, 12), params, TokenListener.NONE)
                    .cachedPrefixTokens();
            return new FirstRun(cached, process.disk.store().segments().size(),
                    process.generator.generate(spec, edited, params, TokenListener.NONE).ids());
        }
    }

    /** One process's view: the model on the CPU backend, a prefix cache, a disk tier in {@code cacheDir}. */
    private static final class EngineProcess implements AutoCloseable {
        final Model model;
        final CpuBackend backend;
        final PrefixCache cache;
        final Generator generator;
        final PersistentPrefixes disk;
        final SharedPrefixGenerator shared;

        EngineProcess(Path modelDir, Path cacheDir) {
            model = Model.load(modelDir);
            backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(16));
            cache = new PrefixCache(KvAccess.of(backend));
            generator = new Generator(backend, null, Set.of(), 64);
            disk = new PersistentPrefixes(cacheDir, new FilePrefixStore(cacheDir), PersistentPrefixes.Options.defaults());
            shared = new SharedPrefixGenerator(backend, generator, cache, ModelFingerprint.of(model), 64, disk, 128);
        }

        @Override
        public void close() {
            cache.close();
            backend.close();
            model.close();
        }
    }
}
