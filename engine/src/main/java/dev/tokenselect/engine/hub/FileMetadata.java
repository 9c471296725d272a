package dev.tokenselect.engine.hub;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A file's identity from the Hub's answer to {@code HEAD .../resolve/{commit}/{path}}.
 *
 * @param etag the blob's name in the cache: for an LFS file its sha256 ({@code X-Linked-Etag}), for a
 *             file in git its git blob hash ({@code ETag})
 * @param size bytes ({@code X-Linked-Size}, else {@code Content-Length}); -1 when not given
 * @param lfs  true when {@code etag} is the sha256 of the content, which the download then checks
 */
record FileMetadata(String etag, long size, boolean lfs) {

    // the etag becomes a file name: nothing that could leave the blobs folder
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    static FileMetadata of(HubHttp.Response r, String file) {
        String linked = normalize(r.header("X-Linked-Etag"));
        String etag = linked != null ? linked : normalize(r.header("ETag"));
        if (etag == null) {
            throw new HubException("The Hub sent no ETag for '" + file + "' (" + r.uri
                    + "), so it cannot be cached; is HF_ENDPOINT a Hugging Face Hub?");
        }
        if (!SAFE.matcher(etag).matches()) {
            throw new HubException("The Hub sent an unusable ETag '" + etag + "' for '" + file + "' (" + r.uri + ")");
        }
        long size = parseSize(r.header("X-Linked-Size"));
        if (size < 0 && r.status >= 200 && r.status < 300) {
            size = r.contentLength();
        }
        boolean lfs = linked != null && SHA256.matcher(linked.toLowerCase(Locale.ROOT)).matches();
        return new FileMetadata(etag, size, lfs);
    }

    /** {@code W/"abc"} and {@code "abc"} to {@code abc}. */
    static String normalize(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e.isEmpty() ? null : e;
    }

    private static long parseSize(String value) {
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
