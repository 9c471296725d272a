package dev.tokenselect.sample.documents;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The kinds of file the app reads: what they are called, what clients call them, and what their bytes look like. */
public enum DocumentType {

    PDF("application/pdf", List.of("pdf"), List.of("application/pdf", "application/x-pdf")),
    MARKDOWN("text/markdown", List.of("md", "markdown"), List.of("text/markdown", "text/x-markdown", "text/plain")),
    HTML("text/html", List.of("html", "htm"), List.of("text/html", "application/xhtml+xml")),
    TEXT("text/plain", List.of("txt", "text"), List.of("text/plain"));

    /** Declared types that say nothing about the content: browsers and curl send them for unknown extensions. */
    static final List<String> UNSPECIFIC = List.of("application/octet-stream", "binary/octet-stream");

    /** Where a PDF's header may start, per ISO 32000. */
    static final int PDF_HEADER_WINDOW = 1024;

    private final String mediaType;
    private final List<String> extensions;
    private final List<String> declaredTypes;

    DocumentType(String mediaType, List<String> extensions, List<String> declaredTypes) {
        this.mediaType = mediaType;
        this.extensions = extensions;
        this.declaredTypes = declaredTypes;
    }

    public String mediaType() {
        return mediaType;
    }

    public List<String> extensions() {
        return extensions;
    }

    /** The type a file name's extension names, if any. */
    public static Optional<DocumentType> ofFileName(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0 || dot == name.length() - 1) {
            return Optional.empty();
        }
        String ext = name.substring(dot + 1).toLowerCase(Locale.ROOT);
        for (DocumentType t : values()) {
            if (t.extensions.contains(ext)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Whether a client's Content-Type fits this type (parameters such as charset are ignored). */
    public boolean acceptsDeclared(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return true;
        }
        String base = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return declaredTypes.contains(base) || UNSPECIFIC.contains(base);
    }

    /**
     * What the bytes say against this type, or empty when they fit: a PDF must carry the PDF header, the text types
     * must be UTF-8 text (no NUL bytes, no undecodable sequences) and not a PDF.
     */
    public Optional<String> contentMismatch(byte[] bytes) {
        boolean pdf = looksLikePdf(bytes);
        if (this == PDF) {
            return pdf ? Optional.empty() : Optional.of("does not start with a PDF header (%PDF-)");
        }
        if (pdf) {
            return Optional.of("holds a PDF, not " + (this == TEXT ? "plain text" : name().toLowerCase(Locale.ROOT)));
        }
        for (byte b : bytes) {
            if (b == 0) {
                return Optional.of("holds binary data (NUL bytes), not text");
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            return Optional.of("is not UTF-8 text (binary data, or another encoding: save it as UTF-8)");
        }
        return Optional.empty();
    }

    static boolean looksLikePdf(byte[] bytes) {
        byte[] magic = {'%', 'P', 'D', 'F', '-'};
        int end = Math.min(bytes.length, PDF_HEADER_WINDOW) - magic.length;
        outer:
        for (int i = 0; i <= end; i++) {
            for (int j = 0; j < magic.length; j++) {
                if (bytes[i + j] != magic[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** "PDF, Markdown (.md, .markdown), ..." for messages. */
    public static String accepted() {
        return "PDF (.pdf), Markdown (.md, .markdown), HTML (.html, .htm) or plain text (.txt, .text)";
    }
}
