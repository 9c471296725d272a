package dev.tokenselect.sample.documents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

/** File names, extensions, declared types and what the bytes hold. */
class UploadChecksTest {

    @Test
    void aBareNameIsKeptAndPathsOrControlCharactersAreRefused() {
        assertThat(UploadChecks.bareName(" Quarterly report (v2).pdf ")).isEqualTo("Quarterly report (v2).pdf");
        for (String bad : new String[] {"../../etc/passwd", "a/b.txt", "a\\b.txt", "..", ".", "tab\there.txt",
                "nul\u0000.txt"}) {
            assertThatThrownBy(() -> UploadChecks.bareName(bad)).as(bad).isInstanceOf(UploadRejected.class)
                    .hasMessageContaining("bare name")
                    .satisfies(e -> assertThat(((UploadRejected) e).status()).isEqualTo(HttpStatus.BAD_REQUEST));
        }
        assertThatThrownBy(() -> UploadChecks.bareName(null)).hasMessageContaining("without a name");
        assertThatThrownBy(() -> UploadChecks.bareName("x".repeat(300) + ".txt")).hasMessageContaining("at most 255");
    }

    @Test
    void theExtensionNamesTheType() {
        assertThat(DocumentType.ofFileName("A.PDF")).hasValue(DocumentType.PDF);
        assertThat(DocumentType.ofFileName("readme.markdown")).hasValue(DocumentType.MARKDOWN);
        assertThat(DocumentType.ofFileName("index.htm")).hasValue(DocumentType.HTML);
        assertThat(DocumentType.ofFileName("notes.txt")).hasValue(DocumentType.TEXT);
        assertThat(DocumentType.ofFileName("archive.zip")).isEmpty();
        assertThat(DocumentType.ofFileName("noextension")).isEmpty();
        assertThat(DocumentType.ofFileName("trailing.")).isEmpty();
    }

    @Test
    void theDeclaredTypeMustFitOrSayNothing() {
        assertThat(DocumentType.PDF.acceptsDeclared("application/pdf")).isTrue();
        assertThat(DocumentType.TEXT.acceptsDeclared("text/plain; charset=UTF-8")).isTrue();
        assertThat(DocumentType.MARKDOWN.acceptsDeclared("text/plain")).isTrue(); // many systems say so for .md
        assertThat(DocumentType.HTML.acceptsDeclared("application/octet-stream")).isTrue();
        assertThat(DocumentType.HTML.acceptsDeclared(null)).isTrue();
        assertThat(DocumentType.TEXT.acceptsDeclared("image/png")).isFalse();
        assertThat(DocumentType.PDF.acceptsDeclared("text/plain")).isFalse();
    }

    @Test
    void theBytesMustBeWhatTheNameSays() {
        byte[] pdf = "%PDF-1.4\n...".getBytes(StandardCharsets.US_ASCII);
        byte[] text = "plain words, ünïcödé".getBytes(StandardCharsets.UTF_8);
        assertThat(DocumentType.PDF.contentMismatch(pdf)).isEmpty();
        assertThat(DocumentType.PDF.contentMismatch(text)).hasValueSatisfying(m -> assertThat(m).contains("PDF header"));
        assertThat(DocumentType.TEXT.contentMismatch(text)).isEmpty();
        assertThat(DocumentType.TEXT.contentMismatch(pdf)).hasValueSatisfying(m -> assertThat(m).contains("holds a PDF"));
        assertThat(DocumentType.HTML.contentMismatch(new byte[] {'<', 'p', 0, '>'}))
                .hasValueSatisfying(m -> assertThat(m).contains("binary"));
        assertThat(DocumentType.MARKDOWN.contentMismatch(new byte[] {'#', ' ', (byte) 0xC3, (byte) 0x28}))
                .hasValueSatisfying(m -> assertThat(m).contains("not UTF-8"));
    }
}
