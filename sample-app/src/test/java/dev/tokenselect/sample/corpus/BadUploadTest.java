package dev.tokenselect.sample.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Multipart.Part;
import dev.tokenselect.sample.Needles;
import dev.tokenselect.sample.Pdfs;
import tools.jackson.databind.JsonNode;

/**
 * Uploads the app refuses, each with a status and a message in plain words (problem details), and nothing stored:
 * too large, the wrong type (by name, declared type or content), empty, names that are paths, bad corpus names.
 */
class BadUploadTest extends AppTestBase {

    @BeforeEach
    @AfterEach
    void clean() throws Exception {
        deleteAllCorpora();
    }

    JsonNode refused(String corpus, int status, Part... parts) throws Exception {
        var r = upload(corpus, List.of(parts));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("application/problem+json"));
        JsonNode problem = json(r);
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        assertThat(problem.path("title").asString()).isNotBlank();
        return problem;
    }

    @Test
    void aFileOverTheLimitIsRefusedWithTheLimitNamed() throws Exception {
        byte[] big = "The sky is blue. ".repeat(MAX_FILE_KB * 1024 / 17 + 100).getBytes(StandardCharsets.UTF_8);
        JsonNode p = refused("big", 413, new Part("big.txt", "text/plain", big));
        assertThat(p.path("detail").asString()).contains("big.txt", "the limit is 0.3 MB", "sample.upload.max-file-size");
        // far over the limit the servlet container stops it early; still a 413 with the limit named
        byte[] huge = new byte[3 * MAX_FILE_KB * 1024];
        Arrays.fill(huge, (byte) 'a');
        JsonNode early = refused("big", 413, new Part("huge.txt", "text/plain", huge));
        assertThat(early.path("detail").asString()).contains("sample.upload.max-file-size");
    }

    @Test
    void theWrongTypeIsRefusedByNameByDeclaredTypeAndByContent() throws Exception {
        byte[] text = Needles.notes("falcon", "318274", 20).getBytes(StandardCharsets.UTF_8);
        assertThat(refused("t", 415, new Part("tool.exe", "application/octet-stream", text)).path("detail").asString())
                .contains("tool.exe", "PDF (.pdf), Markdown (.md, .markdown), HTML (.html, .htm) or plain text");
        assertThat(refused("t", 415, new Part("notes.txt", "image/png", text)).path("detail").asString())
                .contains("notes.txt", "image/png");
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        assertThat(refused("t", 415, new Part("photo.txt", "text/plain", png)).path("detail").asString())
                .contains("photo.txt", "binary data");
        assertThat(refused("t", 415, new Part("fake.pdf", "application/pdf", text)).path("detail").asString())
                .contains("fake.pdf", "PDF header");
        byte[] pdf = Pdfs.of("hello");
        assertThat(refused("t", 415, new Part("report.md", "text/markdown", pdf)).path("detail").asString())
                .contains("report.md", "holds a PDF");
        byte[] latin1 = "caf\u00e9 cr\u00e8me".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(refused("t", 415, new Part("menu.txt", "text/plain", latin1)).path("detail").asString())
                .contains("menu.txt", "not UTF-8");
        assertNothingStored();
    }

    @Test
    void anEmptyFileOrNoFileIsRefused() throws Exception {
        assertThat(refused("e", 400, new Part("empty.txt", "text/plain", new byte[0])).path("detail").asString())
                .contains("empty.txt", "is empty");
        assertThat(refused("e", 400).path("detail").asString()).contains("no files");
        assertNothingStored();
    }

    @Test
    void namesThatArePathsOrHoldControlCharactersAreRefusedAndNothingIsWrittenOutsideTheDataDirectory()
            throws Exception {
        byte[] text = Needles.notes("falcon", "318274", 20).getBytes(StandardCharsets.UTF_8);
        for (String name : List.of("../../etc/passwd", "../../etc/passwd.txt", "..\\..\\windows\\win.ini.txt",
                "/tmp/evil.txt", "notes\u0007.txt", "..")) {
            JsonNode p = refused("paths", 400, new Part(name, "text/plain", text));
            assertThat(p.path("detail").asString()).as(name).contains("bare name");
        }
        assertThat(Path.of("/tmp/evil.txt")).doesNotExist();
        assertNothingStored();
        // a bad file among good ones: none of them is stored
        refused("paths", 400, Part.text("good.txt", "fine"), new Part("../bad.txt", "text/plain", text));
        assertNothingStored();
    }

    @Test
    void aBadCorpusNameIsRefused() throws Exception {
        JsonNode p = refused("Not%20Allowed", 400, Part.text("a.txt", "text"));
        assertThat(p.path("detail").asString()).contains("Corpus name 'Not Allowed'", "lowercase");
        assertNothingStored();
    }

    /** No corpus was made, and the files directory holds nothing but generated ids. */
    private void assertNothingStored() throws Exception {
        assertThat(json(get("/api/corpora"))).isEmpty();
        Path files = dataDir().resolve("files");
        if (Files.isDirectory(files)) {
            try (Stream<Path> s = Files.list(files)) {
                assertThat(s.map(f -> f.getFileName().toString()).toList()).allMatch(n ->
                        n.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
            }
        }
    }
}
