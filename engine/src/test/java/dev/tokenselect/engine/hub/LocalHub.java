package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Stream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Hugging Face Hub on two local ports, serving the Hub's URL layout: the hub ({@code /api/models/...},
 * {@code /{repo}/resolve/{revision}/{path}}) and a "CDN" on another port that LFS files redirect to, as
 * the real Hub redirects them. Headers are the Hub's: {@code X-Repo-Commit}, {@code X-Linked-Etag} and
 * {@code X-Linked-Size} for LFS files, {@code ETag} (the git blob hash) for the others, byte ranges,
 * {@code X-Error-Code}. Every request is recorded; faults can be switched on per blob.
 */
public final class LocalHub implements AutoCloseable {

    public static final String TOKEN = "hf_local_test_token";

    /** One request as a server saw it. */
    public record Request(String server, String method, String path, String authorization, String range) {
    }

    /** A repo: its commit, its branches, its files; LFS files are served from the CDN. */
    public record Repo(String id, String commit, Map<String, byte[]> files, Predicate<String> isLfs, Access access) {
    }

    public enum Access { PUBLIC, GATED, PRIVATE }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobsBySha = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    /** sha256 → bytes after which the next CDN response for that blob breaks off. */
    private final Map<String, Long> dropOnce = new ConcurrentHashMap<>();
    /** sha256 of blobs the CDN serves with one byte flipped. */
    private final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    private volatile boolean ignoreRange;

    public LocalHub() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        cdn.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        hub.start();
        cdn.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    public String cdnEndpoint() {
        return "http://127.0.0.1:" + cdn.getAddress().getPort();
    }

    public Repo add(String id, Map<String, byte[]> files, Access access) {
        Repo repo = new Repo(id, sha1Hex((id + files.keySet()).getBytes(StandardCharsets.UTF_8)), Map.copyOf(files),
                name -> name.endsWith(".safetensors") || name.endsWith(".bin") || name.endsWith(".gguf")
                        || name.endsWith(".onnx"), access);
        repos.put(id, repo);
        files.forEach((name, bytes) -> {
            if (repo.isLfs().test(name)) {
                blobsBySha.put(sha256Hex(bytes), bytes);
            }
        });
        return repo;
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public void clearRequests() {
        requests.clear();
    }

    /** The next CDN response for this file sends {@code bytes} bytes of it and then closes the connection. */
    public void dropOnce(byte[] file, long bytes) {
        dropOnce.put(sha256Hex(file), bytes);
    }

    public void corrupt(byte[] file) {
        corrupt.add(sha256Hex(file));
    }

    public void ignoreRange(boolean ignore) {
        ignoreRange = ignore;
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }

    // ---- the hub

    private void hub(HttpExchange ex) throws IOException {
        try (ex) {
            record(ex, "hub");
            String path = ex.getRequestURI().getRawPath();
            if (path.startsWith("/api/models/")) {
                repoInfo(ex, path.substring("/api/models/".length()));
            } else if (path.contains("/resolve/")) {
                resolve(ex, path);
            } else {
                send(ex, 404, Map.of(), "{\"error\":\"no such page\"}".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private void repoInfo(HttpExchange ex, String rest) throws IOException {
        int at = rest.indexOf("/revision/");
        Repo repo = at < 0 ? null : repos.get(rest.substring(0, at));
        if (repo == null || repo.access() == Access.PRIVATE && !authorized(ex)) {
            // the Hub answers 401 for unknown and private repos alike, so as not to reveal private ones
            send(ex, 401, Map.of("X-Error-Code", "RepoNotFound", "X-Error-Message", "Repository not found"),
                    "{\"error\":\"Repository not found\"}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String revision = decode(rest.substring(at + "/revision/".length()));
        if (!revision.equals("main") && !revision.equals(repo.commit())) {
            send(ex, 404, Map.of("X-Error-Code", "RevisionNotFound", "X-Error-Message", "Invalid rev id: " + revision),
                    ("{\"error\":\"Invalid rev id: " + revision + "\"}").getBytes(StandardCharsets.UTF_8));
            return;
        }
        ObjectNode info = JSON.createObjectNode();
        info.put("id", repo.id());
        info.put("sha", repo.commit());
        info.put("private", repo.access() == Access.PRIVATE);
        info.put("gated", repo.access() == Access.GATED ? "manual" : "false");
        ArrayNode siblings = info.putArray("siblings");
        repo.files().keySet().stream().sorted().forEach(name -> siblings.addObject().put("rfilename", name));
        send(ex, 200, Map.of("Content-Type", "application/json"), JSON.writeValueAsBytes(info));
    }

    private void resolve(HttpExchange ex, String path) throws IOException {
        int at = path.indexOf("/resolve/");
        Repo repo = repos.get(path.substring(1, at));
        String[] revAndFile = path.substring(at + "/resolve/".length()).split("/", 2);
        if (repo == null || repo.access() == Access.PRIVATE && !authorized(ex)) {
            send(ex, 401, Map.of("X-Error-Code", "RepoNotFound"), new byte[0]);
            return;
        }
        if (repo.access() == Access.GATED && !authorized(ex)) {
            send(ex, 401, Map.of("X-Error-Code", "GatedRepo", "X-Error-Message", "Access to model " + repo.id()
                    + " is restricted. You must have access to it and be authenticated to access it. Please log in."), new byte[0]);
            return;
        }
        String revision = decode(revAndFile[0]);
        if (!revision.equals("main") && !revision.equals(repo.commit())) {
            send(ex, 404, Map.of("X-Error-Code", "RevisionNotFound"), new byte[0]);
            return;
        }
        String file = revAndFile.length > 1 ? decode(revAndFile[1]) : "";
        byte[] bytes = repo.files().get(file);
        if (bytes == null) {
            send(ex, 404, Map.of("X-Error-Code", "EntryNotFound"), new byte[0]);
            return;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Repo-Commit", repo.commit());
        if (repo.isLfs().test(file)) {
            String sha = sha256Hex(bytes);
            headers.put("X-Linked-Etag", "\"" + sha + "\"");
            headers.put("X-Linked-Size", Long.toString(bytes.length));
            headers.put("ETag", "\"" + sha + "\"");
            headers.put("Location", cdnEndpoint() + "/repos/" + sha + "?sig=local");
            send(ex, 302, headers, new byte[0]);
        } else {
            headers.put("ETag", "\"" + gitBlobSha1(bytes) + "\"");
            serveRange(ex, headers, bytes, null);
        }
    }

    private static boolean authorized(HttpExchange ex) {
        return ("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"));
    }

    // ---- the CDN

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            record(ex, "cdn");
            String path = ex.getRequestURI().getRawPath();
            String sha = path.startsWith("/repos/") ? path.substring("/repos/".length()) : "";
            byte[] bytes = blobsBySha.get(sha);
            if (bytes == null) {
                send(ex, 404, Map.of(), new byte[0]);
                return;
            }
            if (corrupt.contains(sha)) {
                bytes = bytes.clone();
                bytes[bytes.length / 2] ^= 0x5a;
            }
            serveRange(ex, new LinkedHashMap<>(Map.of("ETag", "\"" + sha + "\"")), bytes, dropOnce.remove(sha));
        }
    }

    // ---- HTTP

    private void serveRange(HttpExchange ex, Map<String, String> headers, byte[] bytes, Long dropAfter) throws IOException {
        long from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && !ignoreRange && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Long.parseLong(range.substring("bytes=".length(), range.length() - 1));
            if (from >= bytes.length) {
                headers.put("Content-Range", "bytes */" + bytes.length);
                send(ex, 416, headers, new byte[0]);
                return;
            }
            headers.put("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        headers.put("Accept-Ranges", "bytes");
        int status = from > 0 ? 206 : 200;
        long length = bytes.length - from;
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", Long.toString(length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, length);
        OutputStream out = ex.getResponseBody();
        if (dropAfter != null) {
            // as a connection that breaks mid-transfer: fewer bytes than announced, then the socket closes
            out.write(bytes, (int) from, (int) Math.min(length, dropAfter));
            out.flush();
            try {
                out.close();
            } catch (IOException expected) {
                // "insufficient bytes written": the server closes the connection
            }
            return;
        }
        out.write(bytes, (int) from, (int) length);
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        boolean noBody = body.length == 0 || ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, noBody ? -1 : body.length);
        if (!noBody) {
            ex.getResponseBody().write(body);
        }
    }

    private void record(HttpExchange ex, String server) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            in.readAllBytes();
        }
        requests.add(new Request(server, ex.getRequestMethod(), decode(ex.getRequestURI().getRawPath()),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    // ---- fixtures and hashes

    /**
     * The files of a real small model: the qwen3 fixture (its transformers logits and greedy tokens are
     * in fixtures/models/qwen3.json) in two safetensors shards with the Qwen tokenizer, plus files a
     * download must skip.
     */
    public static Map<String, byte[]> qwen3Repo(Path workDir) throws Exception {
        JsonNode fixture = qwen3Fixture();
        Path dir = workDir.resolve("qwen3-source");
        SyntheticModelWriter.write(dir, (ObjectNode) fixture.get("config"), fixture.get("generation_config"),
                fixture.get("seed").asLong(), DType.parse(fixture.get("storage_dtype").asString()), 2,
                Path.of(LocalHub.class.getResource("/tokenizers/qwen3").toURI()));
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.sorted().toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        files.put("pytorch_model.bin", "not needed: PyTorch pickle".getBytes(StandardCharsets.UTF_8));
        files.put("model.gguf", "not needed: GGUF".getBytes(StandardCharsets.UTF_8));
        files.put("onnx/model.onnx", "not needed: ONNX".getBytes(StandardCharsets.UTF_8));
        files.put("README.md", "# tiny qwen3\n".getBytes(StandardCharsets.UTF_8));
        files.put(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n".getBytes(StandardCharsets.UTF_8));
        return files;
    }

    public static JsonNode qwen3Fixture() throws IOException {
        try (InputStream in = LocalHub.class.getResourceAsStream("/fixtures/models/qwen3.json")) {
            return JSON.readTree(in);
        }
    }

    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(digest("SHA-256", bytes));
    }

    static String sha1Hex(byte[] bytes) {
        return HexFormat.of().formatHex(digest("SHA-1", bytes));
    }

    /** git's object id of a file: sha1 of "blob {size}\0" and the content. */
    public static String gitBlobSha1(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[header.length + bytes.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return sha1Hex(all);
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Paths requested from one server. */
    public List<String> paths(String server) {
        List<String> out = new ArrayList<>();
        for (Request r : requests) {
            if (r.server().equals(server)) {
                out.add(r.method() + " " + r.path());
            }
        }
        return out;
    }
}
