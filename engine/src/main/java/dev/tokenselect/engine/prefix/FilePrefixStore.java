package dev.tokenselect.engine.prefix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@link PrefixStore} with no database: one JSON index, {@code catalog.json}, in the cache directory,
 * rewritten (temp name, fsync, atomic rename) under a file lock on {@code catalog.lock} at every change,
 * so several processes can share the directory. Named locks are files under {@code locks/}.
 */
public final class FilePrefixStore implements PrefixStore {

    public static final String CATALOG = "catalog.json";
    static final int CATALOG_VERSION = 1;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** File locks are per process; threads of one process (several engines in one JVM) queue here first. */
    private static final Map<String, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private final Path dir;
    private final Path catalog;
    private final Path catalogLock;

    public FilePrefixStore(Path dir) {
        try {
            Files.createDirectories(dir.resolve("locks"));
            this.dir = dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cache directory " + dir + ": " + e.getMessage(), e);
        }
        this.catalog = this.dir.resolve(CATALOG);
        this.catalogLock = this.dir.resolve("catalog.lock");
    }

    public Path directory() {
        return dir;
    }

    /** The catalog's content, read and written under the catalog lock. */
    private static final class Data {
        final Map<String, ModelRecord> models = new LinkedHashMap<>();
        final Map<String, SegmentRecord> segments = new LinkedHashMap<>();
        final Map<String, CorpusRecord> corpora = new LinkedHashMap<>();
    }

    private <T> T locked(boolean write, Function<Data, T> action) {
        try (Lock ignored = fileLock(catalogLock)) {
            Data data = read();
            T result = action.apply(data);
            if (write) {
                write(data);
            }
            return result;
        }
    }

    private Lock fileLock(Path path) {
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(path.toString(), k -> new ReentrantLock());
        jvm.lock();
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock fl = ch.lock();
            FileChannel channel = ch;
            return () -> {
                try {
                    fl.release();
                    channel.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    jvm.unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // already failing
            }
            jvm.unlock();
            throw e instanceof IOException io ? new UncheckedIOException("cannot lock " + path + ": " + io.getMessage(), io)
                    : (RuntimeException) e;
        }
    }

    @Override
    public Lock lock(String key) {
        String name = HexFormat.of().formatHex(Sha256.of(key)).substring(0, 32) + ".lock";
        return fileLock(dir.resolve("locks").resolve(name));
    }

    private Data read() {
        Data d = new Data();
        if (!Files.exists(catalog)) {
            return d;
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(catalog));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + catalog + ": " + e.getMessage(), e);
        }
        if (root.path("version").asInt() != CATALOG_VERSION) {
            throw new IllegalStateException(catalog + " has catalog version " + root.path("version").asInt() + ", expected "
                    + CATALOG_VERSION);
        }
        for (JsonNode m : root.path("models")) {
            d.models.put(m.path("fingerprint").asString(), new ModelRecord(m.path("fingerprint").asString(),
                    text(m, "name"), text(m, "architecture"), instant(m, "first_seen")));
        }
        for (JsonNode s : root.path("segments")) {
            SegmentRecord r = new SegmentRecord(s.path("segment_id").asString(), s.path("model").asString(),
                    text(s, "head_hash"), s.path("chain_blocks").asInt(), s.path("tokens").asInt(), s.path("bytes").asLong(),
                    s.path("file").asString(), s.path("pinned").asBoolean(), instant(s, "created"), instant(s, "last_used"));
            d.segments.put(r.segmentId(), r);
        }
        for (JsonNode c : root.path("corpora")) {
            List<DocumentRecord> docs = new ArrayList<>();
            for (JsonNode doc : c.path("documents")) {
                docs.add(new DocumentRecord(doc.path("ordinal").asInt(), text(doc, "title"), text(doc, "sha256"),
                        doc.path("chars").asLong()));
            }
            CorpusRecord r = new CorpusRecord(c.path("model").asString(), c.path("name").asString(), text(c, "salt"),
                    text(c, "attention"), text(c, "segment_id"), decodeTokens(c.path("tokens").asString()), docs,
                    instant(c, "created"));
            d.corpora.put(corpusKey(r.modelFingerprint(), r.name()), r);
        }
        return d;
    }

    private void write(Data d) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", CATALOG_VERSION);
        ArrayNode models = root.putArray("models");
        for (ModelRecord m : d.models.values()) {
            ObjectNode n = models.addObject();
            n.put("fingerprint", m.fingerprint());
            n.put("name", m.name());
            n.put("architecture", m.architecture());
            n.put("first_seen", str(m.firstSeen()));
        }
        ArrayNode segments = root.putArray("segments");
        for (SegmentRecord s : d.segments.values()) {
            ObjectNode n = segments.addObject();
            n.put("segment_id", s.segmentId());
            n.put("model", s.modelFingerprint());
            n.put("head_hash", s.headHash());
            n.put("chain_blocks", s.chainBlocks());
            n.put("tokens", s.tokens());
            n.put("bytes", s.bytes());
            n.put("file", s.fileName());
            n.put("pinned", s.pinned());
            n.put("created", str(s.created()));
            n.put("last_used", str(s.lastUsed()));
        }
        ArrayNode corpora = root.putArray("corpora");
        for (CorpusRecord c : d.corpora.values()) {
            ObjectNode n = corpora.addObject();
            n.put("model", c.modelFingerprint());
            n.put("name", c.name());
            n.put("salt", c.salt());
            n.put("attention", c.attentionKey());
            n.put("segment_id", c.segmentId());
            n.put("created", str(c.created()));
            n.put("tokens", encodeTokens(c.tokens()));
            ArrayNode docs = n.putArray("documents");
            for (DocumentRecord doc : c.documents()) {
                ObjectNode dn = docs.addObject();
                dn.put("ordinal", doc.ordinal());
                dn.put("title", doc.title());
                dn.put("sha256", doc.sha256());
                dn.put("chars", doc.chars());
            }
        }
        AtomicFiles.write(catalog, JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asString();
    }

    private static Instant instant(JsonNode n, String field) {
        String s = text(n, field);
        return s == null ? null : Instant.parse(s);
    }

    private static String str(Instant t) {
        return t == null ? null : t.toString();
    }

    static String encodeTokens(int[] tokens) {
        if (tokens == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(tokens.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(tokens);
        return Base64.getEncoder().encodeToString(b.array());
    }

    static int[] decodeTokens(String s) {
        if (s == null || s.equals("null")) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(s)).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    private static String corpusKey(String model, String name) {
        return model + "/" + name;
    }

    @Override
    public void upsertModel(ModelRecord model) {
        locked(true, d -> d.models.putIfAbsent(model.fingerprint(), model));
    }

    @Override
    public Optional<ModelRecord> model(String fingerprint) {
        return locked(false, d -> Optional.ofNullable(d.models.get(fingerprint)));
    }

    @Override
    public Optional<SegmentRecord> segment(String segmentId) {
        return locked(false, d -> Optional.ofNullable(d.segments.get(segmentId)));
    }

    @Override
    public Optional<SegmentRecord> longestByHead(String modelFingerprint, List<String> headHashes) {
        var heads = new java.util.HashSet<>(headHashes);
        return locked(false, d -> d.segments.values().stream()
                .filter(s -> s.modelFingerprint().equals(modelFingerprint) && s.headHash() != null && heads.contains(s.headHash()))
                .max(Comparator.comparingInt(SegmentRecord::chainBlocks)));
    }

    @Override
    public boolean insertSegment(SegmentRecord segment) {
        return locked(true, d -> d.segments.putIfAbsent(segment.segmentId(), segment) == null);
    }

    @Override
    public void deleteSegment(String segmentId) {
        locked(true, d -> d.segments.remove(segmentId));
    }

    @Override
    public void touchSegment(String segmentId, Instant lastUsed) {
        locked(true, d -> d.segments.computeIfPresent(segmentId, (k, s) -> s.withLastUsed(lastUsed)));
    }

    @Override
    public void setPinned(String segmentId, boolean pinned) {
        locked(true, d -> d.segments.computeIfPresent(segmentId, (k, s) -> s.withPinned(pinned)));
    }

    @Override
    public List<SegmentRecord> segments() {
        return locked(false, d -> List.copyOf(d.segments.values()));
    }

    @Override
    public void putCorpus(CorpusRecord corpus) {
        locked(true, d -> d.corpora.put(corpusKey(corpus.modelFingerprint(), corpus.name()), corpus));
    }

    @Override
    public Optional<CorpusRecord> corpus(String modelFingerprint, String name) {
        return locked(false, d -> Optional.ofNullable(d.corpora.get(corpusKey(modelFingerprint, name))));
    }

    @Override
    public List<CorpusRecord> corpora(String modelFingerprint) {
        return locked(false, d -> d.corpora.values().stream().filter(c -> c.modelFingerprint().equals(modelFingerprint)).toList());
    }

    @Override
    public boolean deleteCorpus(String modelFingerprint, String name) {
        return locked(true, d -> d.corpora.remove(corpusKey(modelFingerprint, name)) != null);
    }

    @Override
    public void close() {
        // nothing held between calls
    }
}
