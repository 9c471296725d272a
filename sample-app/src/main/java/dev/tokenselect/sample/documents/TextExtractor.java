package dev.tokenselect.sample.documents;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

import org.springframework.ai.document.Document;
import org.springframework.ai.document.DocumentReader;
import org.springframework.ai.reader.TextReader;
import org.springframework.ai.reader.markdown.MarkdownDocumentReader;
import org.springframework.ai.reader.markdown.config.MarkdownDocumentReaderConfig;
import org.springframework.ai.reader.pdf.PagePdfDocumentReader;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * Reads a file's text with Spring AI's document readers (PDF pages, Markdown sections, plain text) and jsoup for
 * HTML, joined into one text per file: a corpus holds whole documents, not chunks.
 */
@Component
public class TextExtractor {

    public String text(String name, DocumentType type, byte[] bytes) {
        ByteArrayResource resource = new ByteArrayResource(bytes, name) {
            @Override
            public String getFilename() {
                return name;
            }
        };
        List<Document> parts;
        try {
            parts = reader(type, resource).get();
        } catch (RuntimeException e) {
            throw new UploadRejected(HttpStatus.UNPROCESSABLE_CONTENT, "Unreadable file", "File '" + name
                    + "' could not be read as " + type.mediaType() + ": " + rootMessage(e)
                    + ". Check that it opens in another program, or save it again.");
        }
        String text = parts.stream().map(d -> section(type, d)).filter(Objects::nonNull).filter(s -> !s.isBlank())
                .collect(Collectors.joining("\n\n")).replace("\uFEFF", "").strip();
        if (type == DocumentType.PDF) {
            // the PDF reader lays words out in columns with runs of spaces; the words are what counts
            text = text.replaceAll("[ \\t\\x0B\\f]+", " ").replaceAll(" ?\\n ?", "\n");
        }
        if (text.isEmpty()) {
            throw new UploadRejected(HttpStatus.UNPROCESSABLE_CONTENT, "No text in the file", "No text could be read "
                    + "from '" + name + "'" + (type == DocumentType.PDF ? " (a scanned PDF holds only images of its "
                    + "pages: run it through OCR first)" : "") + ".");
        }
        return text;
    }

    private static DocumentReader reader(DocumentType type, ByteArrayResource resource) {
        return switch (type) {
            case PDF -> new PagePdfDocumentReader(resource);
            case MARKDOWN -> new MarkdownDocumentReader(resource, MarkdownDocumentReaderConfig.builder()
                    .withIncludeCodeBlock(true).withIncludeBlockquote(true).withHorizontalRuleCreateDocument(false)
                    .build());
            case HTML -> new HtmlDocumentReader(resource);
            case TEXT -> {
                TextReader reader = new TextReader(resource);
                reader.setCharset(java.nio.charset.StandardCharsets.UTF_8);
                yield reader;
            }
        };
    }

    /** A Markdown section keeps its heading, which the reader moves into the metadata. */
    private static String section(DocumentType type, Document d) {
        String text = d.getText();
        Object title = d.getMetadata().get("title");
        if (type == DocumentType.MARKDOWN && title != null && !title.toString().isBlank() && text != null) {
            return title + "\n" + text;
        }
        return text;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
