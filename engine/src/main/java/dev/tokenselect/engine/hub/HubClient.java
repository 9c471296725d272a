package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Resolves a model to a local directory: a directory as it is, a Hugging Face repo id
 * ({@code Qwen/Qwen2.5-0.5B-Instruct}) through the huggingface_hub cache, downloading the files
 * inference needs that the cache lacks. Models downloaded here and by Python tools share the cache.
 *
 * <pre>{@code
 * Path dir = HubClient.fromEnvironment().resolve("Qwen/Qwen2.5-0.5B-Instruct", null);
 * try (Engine engine = Engine.open(dir, EngineOptions.defaults())) { ... }
 * }</pre>
 */
public final class HubClient {

    private static final System.Logger LOG = System.getLogger(HubClient.class.getName());
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    public static final String DEFAULT_REVISION = "main";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HubHttp http;
    private final HubCache cache;
    private final boolean offline;
    private final DownloadListener listener;

    private HubClient(Builder b) {
        this.http = new HubHttp(b.endpoint, b.token, b.connectTimeout, b.readTimeout);
        this.cache = new HubCache(b.cacheDir);
        this.offline = b.offline;
        this.listener = b.listener;
    }

    /** Settings from {@code HF_HOME}, {@code HF_HUB_CACHE}, {@code HF_ENDPOINT}, {@code HF_TOKEN}, {@code HF_HUB_OFFLINE}, as huggingface_hub reads them. */
    public static HubClient fromEnvironment() {
        return builderFromEnvironment().build();
    }

    /** A builder holding the environment's settings, to override some of them. */
    public static Builder builderFromEnvironment() {
        return HubEnvironment.builder(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** A builder with huggingface_hub's defaults, ignoring the environment. */
    public static Builder builder() {
        return new Builder();
    }

    public URI endpoint() {
        return http.endpoint();
    }

    public Path cacheDir() {
        return cache.root();
    }

    public boolean offline() {
        return offline;
    }

    /**
     * A local directory is returned as is (after checking it exists and holds config.json); a repo id
     * is resolved into the cache, downloading what is missing; returns the snapshot directory.
     *
     * @param revision a branch, tag or commit hash; null for {@value #DEFAULT_REVISION}. Ignored for a
     *                 local directory.
     * @throws HubException when the model cannot be had, with a message saying why and what to do
     */
    public Path resolve(String modelOrRepoId, String revision) {
        Objects.requireNonNull(modelOrRepoId, "modelOrRepoId");
        String model = modelOrRepoId.strip();
        if (model.isEmpty()) {
            throw new HubException("No model given: name a model directory or a Hugging Face repo id such as Qwen/Qwen2.5-0.5B-Instruct");
        }
        Optional<Path> local = localPath(model);
        if (local.isPresent() && Files.exists(local.get())) {
            return checkedLocal(local.get(), revision);
        }
        Optional<String> notRepoId = RepoId.problem(model);
        if (notRepoId.isPresent()) {
            throw new HubException("Model directory '" + model + "' does not exist, and it is not a Hugging Face repo id either ("
                    + notRepoId.get() + "). Give an existing directory holding config.json, or a repo id such as Qwen/Qwen2.5-0.5B-Instruct");
        }
        RepoId repo = new RepoId(model);
        String rev = checkedRevision(revision);
        return offline ? fromCacheOffline(repo, rev) : download(repo, rev);
    }

    private static Optional<Path> localPath(String model) {
        try {
            String expanded = model.equals("~") || model.startsWith("~/")
                    ? System.getProperty("user.home") + model.substring(1) : model;
            return Optional.of(Path.of(expanded));
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    private static Path checkedLocal(Path dir, String revision) {
        if (!Files.isDirectory(dir)) {
            throw new HubException("Model path '" + dir + "' is a file: give the model's directory (the one holding config.json)");
        }
        if (!Files.isRegularFile(dir.resolve(ModelFiles.CONFIG))) {
            throw new HubException("Model directory '" + dir + "' has no " + ModelFiles.CONFIG
                    + ": give a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)");
        }
        if (revision != null && !revision.isBlank() && !revision.equals(DEFAULT_REVISION)) {
            LOG.log(System.Logger.Level.WARNING, "Revision ''{0}'' ignored: ''{1}'' is a local directory", revision, dir);
        }
        return dir;
    }

    private static String checkedRevision(String revision) {
        if (revision == null || revision.isBlank()) {
            return DEFAULT_REVISION;
        }
        String r = revision.strip();
        // a revision becomes a path under refs/: nothing that leaves it
        if (r.startsWith("/") || r.endsWith("/") || r.contains("\\") || r.contains("//")
                || List.of(r.split("/")).stream().anyMatch(p -> p.equals(".") || p.equals(".."))
                || r.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new HubException("Invalid revision '" + revision + "': give a branch, tag or commit hash");
        }
        return r;
    }

    /** The snapshot a revision was last resolved to, when it is complete; for offline use. */
    private Path fromCacheOffline(RepoId repo, String revision) {
        Cached c = cached(repo, revision);
        if (c.dir != null) {
            LOG.log(System.Logger.Level.INFO, "Offline: using {0}@{1} from {2}", repo, revision, c.dir);
            return c.dir;
        }
        throw new HubException("Offline mode is on (HF_HUB_OFFLINE) and Hugging Face repo '" + repo + "' (revision '" + revision
                + "') is not in the cache " + cache.root() + " (" + c.why + "). Download it while online (tokenselect download "
                + repo + (revision.equals(DEFAULT_REVISION) ? "" : " --revision " + revision)
                + ", with the same HF_HUB_CACHE) or point the model to a local directory");
    }

    private record Cached(Path dir, String why) {
    }

    private Cached cached(RepoId repo, String revision) {
        String commit = HubCache.isCommitHash(revision) ? revision : cache.readRef(repo, revision).orElse(null);
        if (commit == null) {
            return new Cached(null, "no refs/" + revision + " under " + cache.repoDir(repo));
        }
        Path snapshot = cache.snapshot(repo, commit);
        if (!Files.isDirectory(snapshot)) {
            return new Cached(null, "no snapshot " + commit);
        }
        Optional<String> problem = ModelFiles.problem(snapshot);
        return problem.map(p -> new Cached(null, "snapshot " + commit + " is incomplete: " + p))
                .orElseGet(() -> new Cached(snapshot, null));
    }

    private Path download(RepoId repo, String revision) {
        RepoInfo info;
        try {
            info = repoInfo(repo, revision);
        } catch (IOException e) {
            // the network is down: huggingface_hub falls back to the cache, and so do we
            Cached c = cached(repo, revision);
            if (c.dir != null) {
                LOG.log(System.Logger.Level.WARNING, "Cannot reach {0} ({1}); using the cached snapshot {2}",
                        http.endpoint(), e.toString(), c.dir);
                return c.dir;
            }
            throw new HubException("Cannot reach the Hub at " + http.endpoint() + " to download Hugging Face repo '" + repo
                    + "' (" + e + "), and it is not in the cache " + cache.root() + ". Check the network and HF_ENDPOINT,"
                    + " or point the model to a local directory", e);
        }
        String commit = info.commit();
        try {
            for (String file : ModelFiles.metadata(info, repo, revision)) {
                fetch(repo, commit, file);
            }
            Optional<String> index = ModelFiles.index(info);
            List<String> weights = index.isPresent()
                    ? ModelFiles.shards(fetch(repo, commit, index.get()), info, repo)
                    : List.of(ModelFiles.SINGLE);
            for (String file : weights) {
                fetch(repo, commit, file);
            }
            Path snapshot = cache.snapshot(repo, commit);
            ModelFiles.problem(snapshot).ifPresent(p -> {
                throw new HubException("Snapshot " + snapshot + " of Hugging Face repo '" + repo + "' is not a usable model after the download: " + p);
            });
            cache.writeRef(repo, revision, commit);
            LOG.log(System.Logger.Level.INFO, "{0}@{1} is in {2}", repo, revision, snapshot);
            return snapshot;
        } catch (IOException e) {
            throw new HubException("Cannot download Hugging Face repo '" + repo + "' (revision '" + revision + "') into "
                    + cache.root() + ": " + e, e);
        }
    }

    private RepoInfo repoInfo(RepoId repo, String revision) throws IOException {
        try (HubHttp.Response r = http.send("GET", http.repoInfoUri(repo, revision), Map.of("Accept", "application/json"), true)) {
            if (r.status >= 500) {
                throw new IOException("HTTP " + r.status + " from " + r.uri); // the Hub is down: as unreachable
            }
            if (r.status != 200) {
                throw HubErrors.forResponse(r, http.endpoint(), repo, revision, null);
            }
            JsonNode json;
            try {
                json = JSON.readTree(r.body());
            } catch (JacksonException e) {
                throw new HubException("The Hub's answer for repo '" + repo + "' (revision '" + revision + "') from " + r.uri
                        + " is not JSON; is HF_ENDPOINT a Hugging Face Hub?", e);
            }
            return RepoInfo.parse(json, repo, revision);
        }
    }

    /** Makes {@code snapshots/{commit}/{file}} present, downloading its blob unless the cache has it. */
    private Path fetch(RepoId repo, String commit, String file) throws IOException {
        Path target = cache.snapshot(repo, commit).resolve(file);
        if (Files.exists(target)) {
            return target;
        }
        URI uri = http.resolveUri(repo, commit, file);
        FileMetadata meta;
        try (HubHttp.Response r = http.send("HEAD", uri, Map.of(), false)) {
            if (r.status >= 400) {
                throw HubErrors.forResponse(r, http.endpoint(), repo, commit, file);
            }
            meta = FileMetadata.of(r, file);
        }
        Path blob = cache.blob(repo, meta.etag());
        if (!isComplete(blob, meta)) {
            try (BlobLock lock = BlobLock.acquire(cache.lockFile(repo, meta.etag()), file + " of " + repo)) {
                if (!isComplete(blob, meta)) { // another thread or process may have finished it meanwhile
                    ProgressReporter progress = new ProgressReporter(repo.id(), file, meta.size(), listener, System::nanoTime);
                    new BlobDownload(http, repo, commit, file, meta, blob, cache.incomplete(blob), progress).run(uri);
                }
            }
        }
        cache.link(blob, target);
        return target;
    }

    private static boolean isComplete(Path blob, FileMetadata meta) throws IOException {
        return Files.isRegularFile(blob) && (meta.size() < 0 || Files.size(blob) == meta.size());
    }

    /** Settings; unset ones take huggingface_hub's defaults, not the environment's. */
    public static final class Builder {

        private URI endpoint = URI.create(DEFAULT_ENDPOINT);
        private Path cacheDir = Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
        private String token;
        private boolean offline;
        private DownloadListener listener = DownloadListener.NONE;
        private Duration connectTimeout = DEFAULT_TIMEOUT;
        private Duration readTimeout = DEFAULT_TIMEOUT;

        private Builder() {
        }

        /** The Hub's base URL, {@code https://huggingface.co} or a mirror. */
        public Builder endpoint(String endpoint) {
            String e = endpoint.strip();
            while (e.endsWith("/")) {
                e = e.substring(0, e.length() - 1);
            }
            URI uri;
            try {
                uri = URI.create(e);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("Hub endpoint '" + endpoint + "' is not a URL: " + ex.getMessage(), ex);
            }
            if (uri.getHost() == null || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
                throw new IllegalArgumentException("Hub endpoint '" + endpoint + "' is not an http(s) URL such as " + DEFAULT_ENDPOINT);
            }
            this.endpoint = uri;
            return this;
        }

        /** The huggingface_hub cache ({@code HF_HUB_CACHE}). */
        public Builder cacheDir(Path cacheDir) {
            this.cacheDir = Objects.requireNonNull(cacheDir, "cacheDir");
            return this;
        }

        /** An access token, sent as {@code Authorization: Bearer} to the endpoint only; null for none. */
        public Builder token(String token) {
            this.token = token == null || token.isBlank() ? null : token.strip();
            return this;
        }

        /** Resolve repo ids from the cache only, without network. */
        public Builder offline(boolean offline) {
            this.offline = offline;
            return this;
        }

        public Builder progressListener(DownloadListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connect timeout");
            return this;
        }

        /** How long a transfer may stall before it is resumed on a new connection. */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = positive(timeout, "read timeout");
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + d);
            }
            return d;
        }

        public HubClient build() {
            return new HubClient(this);
        }
    }
}
