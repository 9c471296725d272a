package dev.tokenselect.sample.documents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.tokenselect.sample.Pdfs;

/** Each kind of file becomes one text, with what a reader needs and nothing a page hides. */
class TextExtractorTest {

    final TextExtractor extractor = new TextExtractor();

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aPdfsPagesAreRead() throws Exception {
        String text = extractor.text("a.pdf", DocumentType.PDF, Pdfs.of("The special code for lantern is 902113."));
        assertThat(text).contains("The special code for lantern is 902113.");
    }

    @Test
    void markdownKeepsItsHeadingsParagraphsCodeAndQuotes() {
        String md = "# Release notes\n\nVersion 2 adds corpora.\n\n## Upgrading\n\n> Back up first.\n\n```\nmvn verify\n```\n";
        String text = extractor.text("notes.md", DocumentType.MARKDOWN, utf8(md));
        assertThat(text).contains("Release notes", "Version 2 adds corpora.", "Upgrading", "Back up first.", "mvn verify");
        assertThat(text.indexOf("Release notes")).isLessThan(text.indexOf("Version 2"));
        assertThat(text.indexOf("Upgrading")).isLessThan(text.indexOf("Back up first."));
    }

    @Test
    void htmlGivesItsVisibleTextInBlocksWithoutScriptsOrStyles() {
        String html = "<!doctype html><html><head><title>Guide</title><style>p{color:red}</style></head><body>"
                + "<h1>Guide</h1><p>First <b>bold</b> paragraph.</p><script>alert('x')</script>"
                + "<ul><li>one</li><li>two</li></ul><p>Caf&eacute; &amp; cr&egrave;me</p></body></html>";
        String text = extractor.text("guide.html", DocumentType.HTML, utf8(html));
        assertThat(text).isEqualTo("Guide\nFirst bold paragraph.\none\ntwo\nCafé & crème");
    }

    @Test
    void plainTextIsTakenAsItIsWithoutAByteOrderMark() {
        assertThat(extractor.text("a.txt", DocumentType.TEXT, utf8("\uFEFFLine one.\nLine two.\n")))
                .isEqualTo("Line one.\nLine two.");
    }

    @Test
    void aFileWithoutTextOrABrokenPdfIsRefusedInPlainWords() throws Exception {
        assertThatThrownBy(() -> extractor.text("blank.html", DocumentType.HTML, utf8("<html><body> </body></html>")))
                .isInstanceOf(UploadRejected.class).hasMessageContaining("No text could be read from 'blank.html'");
        byte[] broken = utf8("%PDF-1.7\nthis is not a pdf body");
        assertThatThrownBy(() -> extractor.text("broken.pdf", DocumentType.PDF, broken))
                .isInstanceOf(UploadRejected.class).hasMessageContaining("'broken.pdf' could not be read");
    }
}
