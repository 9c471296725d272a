package dev.tokenselect.sample;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/** A multipart/form-data body as browsers and curl send it: the file name goes to the server as given. */
public final class Multipart {

    public record Part(String fileName, String contentType, byte[] bytes) {
        public static Part text(String fileName, String text) {
            return new Part(fileName, "text/plain", text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private Multipart() {
    }

    public static HttpResponse<String> post(HttpClient http, URI uri, List<Part> parts) throws Exception {
        String boundary = "----sample" + UUID.randomUUID().toString().replace("-", "");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Part p : parts) {
            String head = "--" + boundary + "\r\n"
                    + "Content-Disposition: form-data; name=\"files\"; filename=\"" + p.fileName() + "\"\r\n"
                    + (p.contentType() == null ? "" : "Content-Type: " + p.contentType() + "\r\n") + "\r\n";
            body.write(head.getBytes(StandardCharsets.UTF_8));
            body.write(p.bytes());
            body.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(uri)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
