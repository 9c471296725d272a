package dev.tokenselect.engine.prefix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;

/**
 * Time to first token of a question against a large corpus, three ways in one run: cold (the corpus
 * is prefilled), warm (resident in the KV cache) and restored (a new engine reads the persisted
 * segment instead of prefilling), next to the read rate of the segment file measured in the same run.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp tokenselect-engine-*-cli.jar \
 *     dev.tokenselect.engine.prefix.CorpusBenchmark MODEL_DIR CACHE_DIR [corpusTokens=32768] [backend=cpu]</pre>
 */
public final class CorpusBenchmark {

    private CorpusBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: CorpusBenchmark MODEL_DIR CACHE_DIR [corpusTokens=32768] [backend=cpu]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        Path cache = Path.of(args[1]);
        int target = args.length > 2 ? Integer.parseInt(args[2]) : 32768;
        String backend = args.length > 3 ? args[3] : "cpu";
        EngineOptions options = new EngineOptions(backend, 0, 0, target + 4096L, 32);
        String question = "What is the special code for Ada?";
        Files.createDirectories(cache);

        List<CorpusPrompts.Document> docs;
        double cold;
        double warm;
        int tokens;
        try (Engine engine = Engine.open(model, options);
             CorpusManager manager = new CorpusManager(engine, persistence(cache), CorpusManager.Options.defaults())) {
            System.out.println("device: " + engine.backend().device());
            docs = documents(manager, target);
            long t0 = System.nanoTime();
            CorpusManager.CorpusInfo info = manager.register("bench", docs);
            cold = (System.nanoTime() - t0) / 1e6 + firstTokenMillis(manager, question);
            tokens = info.tokens();
            System.out.printf(Locale.ROOT, "cold: %,d corpus tokens prefilled (%,d), first token after %.0f ms%n",
                    tokens, info.prefilledTokens(), cold);
            warm = firstTokenMillis(manager, question);
            System.out.printf(Locale.ROOT, "warm: first token after %.1f ms%n", warm);
        }
        double restored;
        long restoredTokens;
        try (Engine engine = Engine.open(model, options);
             CorpusManager manager = new CorpusManager(engine, persistence(cache), CorpusManager.Options.defaults())) {
            long t0 = System.nanoTime();
            CorpusManager.CorpusInfo info = manager.register("bench", docs);
            restored = (System.nanoTime() - t0) / 1e6 + firstTokenMillis(manager, question);
            restoredTokens = info.restoredTokens();
            System.out.printf(Locale.ROOT, "restored: %,d tokens from disk, %,d prefilled, first token after %.0f ms%n",
                    info.restoredTokens(), info.prefilledTokens(), restored);
        }
        Path segment;
        try (var files = Files.list(cache)) {
            segment = files.filter(p -> p.toString().endsWith(".kvseg")).findFirst().orElseThrow();
        }
        long bytes = Files.size(segment);
        double readSeconds = readSeconds(segment);
        System.out.println();
        System.out.printf(Locale.ROOT, "| corpus tokens | cold (prefill) | warm (resident) | restored from disk | segment | file read rate |%n");
        System.out.printf(Locale.ROOT, "|---:|---:|---:|---:|---:|---:|%n");
        System.out.printf(Locale.ROOT, "| %,d | %.2f s | %.1f ms | %.0f ms | %.1f MB | %.2f GB/s (%.0f ms) |%n", tokens,
                cold / 1000, warm, restored, bytes / 1e6, bytes / readSeconds / 1e9, readSeconds * 1000);
        if (restoredTokens != tokens) {
            throw new IllegalStateException("the second engine did not restore the corpus: " + restoredTokens);
        }
    }

    private static PersistentPrefixes persistence(Path cache) {
        return new PersistentPrefixes(cache, new FilePrefixStore(cache), PersistentPrefixes.Options.defaults());
    }

    /** Noise paragraphs with one needle, grown until the corpus has about {@code target} tokens. */
    private static List<CorpusPrompts.Document> documents(CorpusManager manager, int target) {
        String noise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
        List<CorpusPrompts.Document> docs = new ArrayList<>();
        int perDoc = 2000;
        docs.add(new CorpusPrompts.Document("notes-0", noise.repeat(60) + "The special code for Ada is 482913. "
                + noise.repeat(60)));
        while (manager.prompts().corpusTokens(docs).length < target - perDoc) {
            docs.add(new CorpusPrompts.Document("notes-" + docs.size(), noise.repeat(90)));
        }
        return docs;
    }

    private static double firstTokenMillis(CorpusManager manager, String question) {
        long t0 = System.nanoTime();
        long[] first = {0};
        manager.ask("bench", question, SamplingParams.greedy(1), new TokenListener() {
            @Override
            public void onText(String delta) {
            }

            @Override
            public void onToken(int id) {
                if (first[0] == 0) {
                    first[0] = System.nanoTime();
                }
            }
        });
        return (first[0] - t0) / 1e6;
    }

    private static double readSeconds(Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.clear();
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
