package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Downloads one blob into {@code blobs/{etag}.incomplete} and renames it to {@code blobs/{etag}}
 * once its size (and, for an LFS file, its sha256) is right. An interrupted transfer resumes with
 * {@code Range: bytes=N-}, in this run or the next; a server that answers a range with the whole
 * file makes it start over. The caller holds the blob's lock.
 */
final class BlobDownload {

    private static final System.Logger LOG = System.getLogger(BlobDownload.class.getName());
    static final int MAX_ATTEMPTS = 5;
    private static final long RETRY_WAIT_MILLIS = 500;
    private static final int BUFFER_BYTES = 1 << 20;

    private final HubHttp http;
    private final RepoId repo;
    private final String commit;
    private final String file;
    private final FileMetadata meta;
    private final Path blob;
    private final Path incomplete;
    private final ProgressReporter progress;
    private final MessageDigest sha256;

    /** Bytes of {@link #incomplete} written so far, all of them fed to {@link #sha256}. */
    private long have;

    BlobDownload(HubHttp http, RepoId repo, String commit, String file, FileMetadata meta, Path blob, Path incomplete,
                 ProgressReporter progress) {
        this.http = http;
        this.repo = repo;
        this.commit = commit;
        this.file = file;
        this.meta = meta;
        this.blob = blob;
        this.incomplete = incomplete;
        this.progress = progress;
        this.sha256 = meta.lfs() ? newSha256() : null;
    }

    void run(URI uri) throws IOException {
        Files.createDirectories(blob.getParent());
        have = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
        if (meta.size() >= 0 && have > meta.size()) {
            LOG.log(System.Logger.Level.WARNING, "{0} is larger than {1} ({2} bytes): starting over", incomplete, file, meta.size());
            have = 0;
        }
        if (have > 0 && sha256 != null) {
            hashPrefix();
        }
        progress.start(have);
        if (meta.size() >= 0 && have == meta.size()) {
            // an earlier run got every byte but stopped before the rename: keep them if they are right
            if (problem() == null) {
                publish();
                return;
            }
            restart("the complete file left by an earlier run does not match");
        }
        transferWithRetries(uri);
        String problem = problem();
        if (problem != null) {
            Files.deleteIfExists(incomplete);
            throw new HubException(problem);
        }
        publish();
    }

    private void publish() throws IOException {
        HubCache.moveAtomically(incomplete, blob);
        progress.finish();
    }

    private void transferWithRetries(URI uri) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                transfer(uri);
                if (meta.size() < 0 || have >= meta.size()) {
                    return;
                }
                throw new IOException("the connection ended after " + have + " of " + meta.size() + " bytes");
            } catch (IOException e) {
                if (attempt == MAX_ATTEMPTS) {
                    throw new HubException("Download of '" + file + "' from Hugging Face repo '" + repo + "' failed after "
                            + MAX_ATTEMPTS + " attempts: " + e.getMessage() + ". Run again to resume from the " + have
                            + " bytes kept in " + incomplete, e);
                }
                LOG.log(System.Logger.Level.WARNING, "Download of {0} interrupted at {1} ({2}); resuming, attempt {3} of {4}",
                        file, ProgressReporter.mb(have), e.toString(), attempt + 1, MAX_ATTEMPTS);
                pause(attempt);
            }
        }
    }

    /** One request: appends to the partial file from {@link #have}, or rewrites it when the server sends it all. */
    private void transfer(URI uri) throws IOException {
        Map<String, String> headers = have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of();
        try (HubHttp.Response r = http.send("GET", uri, headers, true)) {
            if (r.status == 416 && have > 0) {
                restart("the server cannot serve bytes from " + have + " (HTTP 416)");
                throw new IOException("range not satisfiable at " + r.uri);
            }
            if (r.status >= 500 || r.status == 408) {
                throw new IOException("HTTP " + r.status + " from " + r.uri);
            }
            if (r.status != 200 && r.status != 206) {
                throw HubErrors.forResponse(r, http.endpoint(), repo, commit, file);
            }
            if (r.status == 200 && have > 0) {
                restart("the server ignored the range request and sent the whole file");
            } else if (r.status == 206 && rangeStart(r.header("Content-Range")) != have) {
                restart("the server sent a different range (" + r.header("Content-Range") + ")");
                throw new IOException("unexpected Content-Range from " + r.uri);
            }
            write(r.body());
        }
    }

    private void write(InputStream in) throws IOException {
        try (FileChannel out = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            out.truncate(have);
            out.position(have);
            byte[] buffer = new byte[BUFFER_BYTES];
            int n;
            while ((n = in.read(buffer)) != -1) {
                if (meta.size() >= 0 && have + n > meta.size()) {
                    out.close();
                    Files.deleteIfExists(incomplete);
                    throw new HubException("The server sent more than the " + meta.size() + " bytes announced for '" + file
                            + "' of Hugging Face repo '" + repo + "'; the partial download was deleted, run again");
                }
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                if (sha256 != null) {
                    sha256.update(buffer, 0, n);
                }
                have += n;
                progress.advance(have);
            }
            out.force(true); // the bytes are on disk before the rename publishes them
        }
    }

    private void restart(String why) {
        LOG.log(System.Logger.Level.WARNING, "Restarting the download of {0}: {1}", file, why);
        have = 0;
        if (sha256 != null) {
            sha256.reset();
        }
        progress.start(0);
    }

    /** Why the partial file is not the blob (its size, its sha256), or null when it is. */
    private String problem() throws IOException {
        long actual = Files.size(incomplete);
        if (meta.size() >= 0 && actual != meta.size()) {
            return "Size mismatch for '" + file + "' of Hugging Face repo '" + repo + "' (commit " + commit
                    + "): expected " + meta.size() + " bytes, got " + actual + "; the download was deleted, run again";
        }
        if (sha256 != null) {
            String got = HexFormat.of().formatHex(sha256.digest());
            if (!got.equalsIgnoreCase(meta.etag())) {
                return "Checksum mismatch for '" + file + "' of Hugging Face repo '" + repo + "' (commit " + commit
                        + "): expected sha256 " + meta.etag() + ", got " + got
                        + "; the corrupt download was deleted, run again to download it anew";
            }
        }
        return null;
    }

    private void hashPrefix() throws IOException {
        try (InputStream in = Files.newInputStream(incomplete)) {
            byte[] buffer = new byte[BUFFER_BYTES];
            long left = have;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    break;
                }
                sha256.update(buffer, 0, n);
                left -= n;
            }
        }
    }

    /** The first byte of {@code Content-Range: bytes 100-199/200}, or -1. */
    static long rangeStart(String contentRange) {
        if (contentRange == null) {
            return -1;
        }
        String s = contentRange.strip();
        if (!s.startsWith("bytes ")) {
            return -1;
        }
        int dash = s.indexOf('-');
        try {
            return dash < 0 ? -1 : Long.parseLong(s.substring(6, dash).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(RETRY_WAIT_MILLIS * attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while waiting to resume a download", e);
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
