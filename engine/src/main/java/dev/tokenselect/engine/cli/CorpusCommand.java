package dev.tokenselect.engine.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.prefix.CorpusManager;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import dev.tokenselect.engine.prefix.FilePrefixStore;
import dev.tokenselect.engine.prefix.PersistentPrefixes;
import dev.tokenselect.engine.prefix.PrefixStore;
import dev.tokenselect.engine.prefix.PrefixStoreProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code corpus add|ask|list|remove}: resident corpora with a persisted prefix cache. */
@Command(name = "corpus", description = "Register documents as a resident, persisted prefix and ask questions against them.",
        subcommands = {CorpusCommand.Add.class, CorpusCommand.Ask.class, CorpusCommand.ListCorpora.class,
                CorpusCommand.Remove.class})
public final class CorpusCommand {

    /** Where the segment files and the catalog live. */
    static final class CacheOptions {
        @Option(names = "--cache", required = true, paramLabel = "DIR", description = "Directory of the persisted KV segments")
        Path cache;

        @Option(names = "--jdbc-url", paramLabel = "URL",
                description = "PostgreSQL catalog (jdbc:postgresql://host/db?user=..&password=..) instead of the file catalog")
        String jdbcUrl;

        @Option(names = "--cache-max-bytes", defaultValue = "" + Long.MAX_VALUE, paramLabel = "BYTES",
                description = "Size limit of the cache directory; the oldest unpinned segments go first")
        long maxBytes;

        PersistentPrefixes open() {
            PrefixStore store = jdbcUrl != null ? PrefixStoreProvider.forUrl(jdbcUrl, cache) : new FilePrefixStore(cache);
            return new PersistentPrefixes(cache, store, PersistentPrefixes.Options.defaults().withMaxBytes(maxBytes));
        }
    }

    /** Runs {@code work} with an engine and a corpus manager over the cache. */
    abstract static class CorpusSubcommand extends ModelCommand {
        @Mixin
        CacheOptions cacheOptions;

        @Mixin
        BackendOptions backend;

        @Mixin
        AttentionOptions attention;

        interface Work {
            Map<String, Object> run(CorpusManager manager, CliOutput out) throws Exception;
        }

        int withManager(Work work) throws Exception {
            CliOutput out = output();
            PersistentPrefixes persistence = cacheOptions.open();
            try (Engine engine = Engine.open(common.model, backend.engineOptions());
                 CorpusManager manager = new CorpusManager(engine, persistence, new CorpusManager.Options(
                         attention.spec(backend.prefillChunk(), backend.prefillChunk != null), backend.prefillChunk()))) {
                Map<String, Object> result = work.run(manager, out);
                if (out.json()) {
                    out.object(result);
                } else {
                    out.info(CliOutput.toJson(result));
                }
            } finally {
                persistence.store().close();
            }
            return 0;
        }
    }

    @Command(name = "add", description = "Register a corpus: prefill it once (or restore it) and persist it.")
    static final class Add extends CorpusSubcommand {
        @Option(names = "--name", required = true, description = "Corpus name")
        String name;

        @Option(names = "--file", required = true, paramLabel = "F", description = "A document (repeatable, in order)")
        List<Path> files;

        @Option(names = "--salt", defaultValue = "", description = "Cache salt of the corpus (tenant); other salts never share its blocks")
        String salt;

        @Override
        public Integer call() throws Exception {
            List<Document> docs = new ArrayList<>();
            for (Path f : files) {
                docs.add(new Document(f.getFileName().toString(), Files.readString(f)));
            }
            return withManager((m, out) -> m.register(name, docs, salt).toMap());
        }
    }

    @Command(name = "ask", description = "Ask a question against a registered corpus.")
    static final class Ask extends CorpusSubcommand {
        @Option(names = "--name", required = true, description = "Corpus name")
        String name;

        @Option(names = "--question", required = true, paramLabel = "TEXT")
        String question;

        @Mixin
        SamplingOptions sampling;

        @Override
        public Integer call() throws Exception {
            return withManager((m, out) -> {
                TokenListener listener = out.json() ? TokenListener.NONE : out::text;
                CorpusManager.Answer a = m.ask(name, question, sampling.params(), listener);
                if (!out.json()) {
                    out.text("\n");
                }
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("ids", a.result().ids());
                json.put("text", a.result().text());
                json.put("stats", a.stats());
                return json;
            });
        }
    }

    @Command(name = "list", description = "List the corpora registered for the model.")
    static final class ListCorpora extends CorpusSubcommand {
        @Override
        public Integer call() throws Exception {
            CliOutput out = output();
            try (PrefixStore store = cacheOptions.open().store()) {
                String fp = fingerprint();
                List<Map<String, Object>> list = new ArrayList<>();
                for (PrefixStore.CorpusRecord c : store.corpora(fp)) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", c.name());
                    m.put("tokens", c.tokens().length);
                    m.put("documents", c.documents().size());
                    m.put("persisted", c.segmentId() != null && store.segment(c.segmentId()).isPresent());
                    list.add(m);
                }
                Map<String, Object> result = Map.of("corpora", list);
                if (out.json()) {
                    out.object(result);
                } else {
                    out.text(CliOutput.toJson(result) + "\n");
                }
            }
            return 0;
        }

        private String fingerprint() {
            try (dev.tokenselect.engine.model.Model model = dev.tokenselect.engine.model.Model.load(common.model)) {
                return dev.tokenselect.engine.prefix.ModelFingerprint.of(model);
            }
        }
    }

    @Command(name = "remove", description = "Unregister a corpus and delete its persisted segment.")
    static final class Remove extends CorpusSubcommand {
        @Option(names = "--name", required = true, description = "Corpus name")
        String name;

        @Override
        public Integer call() throws Exception {
            return withManager((m, out) -> {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("name", name);
                r.put("removed", m.unregister(name));
                return r;
            });
        }
    }
}
