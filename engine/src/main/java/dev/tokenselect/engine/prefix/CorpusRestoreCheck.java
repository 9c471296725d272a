package dev.tokenselect.engine.prefix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;

/**
 * A resident corpus and its persisted prefix on any backend (run on the GPU machine for the CUDA
 * pool): a question against the resident corpus, then a second engine that restores the corpus from
 * the segment file with no prefill and must answer with exactly the same tokens (a bf16 pool's blocks
 * are exact in fp32, so the round trip through the file changes no bit), and the same question with
 * the whole prompt prefilled from scratch for comparison. Exit status 1 when the restored answer or
 * the counts differ.
 *
 * <pre>java -cp tokenselect-engine-*-cli.jar dev.tokenselect.engine.prefix.CorpusRestoreCheck MODEL_DIR CACHE_DIR [backend=cuda]</pre>
 */
public final class CorpusRestoreCheck {

    private CorpusRestoreCheck() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: CorpusRestoreCheck MODEL_DIR CACHE_DIR [backend=cuda]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        Path cache = Path.of(args[1]);
        String backend = args.length > 2 ? args[2] : "cuda";
        Files.createDirectories(cache);
        EngineOptions options = new EngineOptions(backend, 0, 0, 16_384, 32);
        String noise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
        List<CorpusPrompts.Document> docs = List.of(
                new CorpusPrompts.Document("notes-0", noise.repeat(40) + "The special code for Ada is 482913. " + noise.repeat(40)),
                new CorpusPrompts.Document("notes-1", noise.repeat(60)));
        String question = "What is the special code for Ada?";
        SamplingParams greedy = SamplingParams.greedy(16);
        int failures = 0;

        int[] resident;
        int corpusTokens;
        int[] fresh;
        try (Engine engine = Engine.open(model, options);
             CorpusManager manager = new CorpusManager(engine, persistence(cache), CorpusManager.Options.defaults())) {
            System.out.println("device: " + engine.backend().device());
            CorpusManager.CorpusInfo info = manager.register("check", docs);
            corpusTokens = info.tokens();
            CorpusManager.Answer a = manager.ask("check", question, greedy, TokenListener.NONE);
            resident = a.result().ids();
            System.out.printf(Locale.ROOT, "resident: %d corpus tokens prefilled %d; answer %s (%s), cached prefix %d%n",
                    corpusTokens, info.prefilledTokens(), Arrays.toString(resident), a.result().text().strip(),
                    a.cachedPrefixTokens());
            if (info.prefilledTokens() != corpusTokens || a.cachedPrefixTokens() < corpusTokens - 32) {
                System.out.println("FAIL the first engine did not prefill the corpus once and reuse it");
                failures++;
            }
            int[] corpus = manager.prompts().corpusTokens(docs);
            int[] suffix = manager.prompts().questionTokens(question);
            int[] whole = Arrays.copyOf(corpus, corpus.length + suffix.length);
            System.arraycopy(suffix, 0, whole, corpus.length, suffix.length);
            GenerationResult g = engine.generator(512).generate(whole, greedy, TokenListener.NONE);
            fresh = g.ids();
        }
        try (Engine engine = Engine.open(model, options);
             CorpusManager manager = new CorpusManager(engine, persistence(cache), CorpusManager.Options.defaults())) {
            CorpusManager.CorpusInfo info = manager.register("check", docs);
            CorpusManager.Answer a = manager.ask("check", question, greedy, TokenListener.NONE);
            System.out.printf(Locale.ROOT, "restored: %d tokens from disk, %d prefilled; answer %s%n",
                    info.restoredTokens(), info.prefilledTokens(), Arrays.toString(a.result().ids()));
            if (info.restoredTokens() != corpusTokens || info.prefilledTokens() != 0) {
                System.out.println("FAIL the second engine did not restore the whole corpus from disk");
                failures++;
            }
            if (!Arrays.equals(a.result().ids(), resident)) {
                System.out.println("FAIL the restored corpus answers differently from the resident one");
                failures++;
            } else {
                System.out.println("PASS restored corpus: same greedy tokens as the resident corpus");
            }
        }
        System.out.printf(Locale.ROOT, "%s fresh prefill of the whole prompt: %s%n",
                Arrays.equals(fresh, resident) ? "same answer as the cached corpus," : "differs from the cached corpus:",
                Arrays.toString(fresh));
        System.exit(failures == 0 ? 0 : 1);
    }

    private static PersistentPrefixes persistence(Path cache) {
        return new PersistentPrefixes(cache, new FilePrefixStore(cache), PersistentPrefixes.Options.defaults());
    }
}
