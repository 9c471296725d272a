package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP to the Hub and its CDN. Redirects are followed here, not by the connection, so that the token
 * goes only to the endpoint's origin: the Hub redirects large files to a CDN on another host, which
 * must never see it. {@link HttpURLConnection} because it has a real read timeout, so a stalled
 * transfer fails (and resumes) instead of hanging.
 */
final class HubHttp {

    private static final System.Logger LOG = System.getLogger(HubHttp.class.getName());
    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "tokenselect/0.1.0; java/" + Runtime.version().feature();

    private final URI endpoint;
    private final String token;
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;

    HubHttp(URI endpoint, String token, Duration connectTimeout, Duration readTimeout) {
        this.endpoint = endpoint;
        this.token = token;
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        this.readTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis());
    }

    URI endpoint() {
        return endpoint;
    }

    boolean hasToken() {
        return token != null;
    }

    /** {@code GET {endpoint}/api/models/{repo}/revision/{revision}}: the commit and the file list. */
    URI repoInfoUri(RepoId repo, String revision) {
        return URI.create(endpoint + "/api/models/" + repo.id() + "/revision/" + encode(revision));
    }

    /** {@code {endpoint}/{repo}/resolve/{revision}/{path}}: a file's content. */
    URI resolveUri(RepoId repo, String revision, String path) {
        StringBuilder encodedPath = new StringBuilder();
        for (String segment : path.split("/", -1)) {
            if (!encodedPath.isEmpty()) {
                encodedPath.append('/');
            }
            encodedPath.append(encode(segment));
        }
        return URI.create(endpoint + "/" + repo.id() + "/resolve/" + encode(revision) + "/" + encodedPath);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * Sends a request and follows redirects: all of them, or with {@code crossOrigin} false only those
     * that stay on the same origin (a renamed repo), returning a redirect elsewhere (the CDN) as is.
     */
    Response send(String method, URI uri, Map<String, String> headers, boolean crossOrigin) throws IOException {
        URI current = uri;
        for (int hop = 0; ; hop++) {
            Response r = sendOnce(method, current, headers);
            if (r.status < 300 || r.status > 399 || r.status == 304) {
                return r;
            }
            String location = r.header("Location");
            if (location == null) {
                return r;
            }
            URI next = current.resolve(location);
            if (!crossOrigin && !sameOrigin(next, current)) {
                return r;
            }
            r.close();
            if (hop == MAX_REDIRECTS) {
                throw new IOException("more than " + MAX_REDIRECTS + " redirects from " + uri);
            }
            LOG.log(System.Logger.Level.DEBUG, "{0} {1} redirected to {2}", method, current, next);
            current = next;
        }
    }

    private Response sendOnce(String method, URI uri, Map<String, String> headers) throws IOException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IOException("not an http(s) URL: " + uri);
        }
        HttpURLConnection conn = (HttpURLConnection) uri.toURL().openConnection();
        conn.setInstanceFollowRedirects(false);
        conn.setConnectTimeout(connectTimeoutMillis);
        conn.setReadTimeout(readTimeoutMillis);
        conn.setUseCaches(false);
        conn.setRequestMethod(method);
        conn.setRequestProperty("User-Agent", USER_AGENT);
        // the real size in Content-Length, and byte ranges that mean bytes of the file
        conn.setRequestProperty("Accept-Encoding", "identity");
        headers.forEach(conn::setRequestProperty);
        boolean withToken = token != null && sameOrigin(uri, endpoint);
        if (withToken) {
            conn.setRequestProperty("Authorization", "Bearer " + token);
        }
        LOG.log(System.Logger.Level.DEBUG, "{0} {1}{2}", method, uri, withToken ? " (with token)" : "");
        try {
            return new Response(conn, uri, conn.getResponseCode(), withToken);
        } catch (IOException e) {
            conn.disconnect();
            throw e;
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** One HTTP response; closing it releases the connection for reuse. */
    static final class Response implements AutoCloseable {

        private static final int ERROR_TEXT_LIMIT = 300;

        private final HttpURLConnection conn;
        final URI uri;
        final int status;
        final boolean tokenSent;

        private Response(HttpURLConnection conn, URI uri, int status, boolean tokenSent) {
            this.conn = conn;
            this.uri = uri;
            this.status = status;
            this.tokenSent = tokenSent;
        }

        String header(String name) {
            return conn.getHeaderField(name);
        }

        long contentLength() {
            return conn.getContentLengthLong();
        }

        InputStream body() throws IOException {
            return conn.getInputStream();
        }

        /** The start of an error response's body, for messages. */
        String errorText() {
            try (InputStream in = conn.getErrorStream()) {
                if (in == null) {
                    return "";
                }
                String text = new String(in.readNBytes(ERROR_TEXT_LIMIT), StandardCharsets.UTF_8).strip();
                return text.replaceAll("\\s+", " ");
            } catch (IOException e) {
                return "";
            }
        }

        @Override
        public void close() {
            try (InputStream in = status >= 400 ? conn.getErrorStream() : conn.getInputStream()) {
                // closing (not draining) the stream; the connection is reused when the body was read
            } catch (IOException e) {
                conn.disconnect();
            }
        }
    }
}
