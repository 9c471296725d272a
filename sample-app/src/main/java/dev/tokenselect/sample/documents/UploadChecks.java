package dev.tokenselect.sample.documents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;
import org.springframework.web.multipart.MultipartFile;

import dev.tokenselect.sample.SampleProperties;

/**
 * Checks an upload before anything is stored: how many files, each one's name (never a path), size, declared type,
 * extension, and what its bytes actually hold.
 */
@Component
public class UploadChecks {

    /** Longest file name kept (PostgreSQL column and display). */
    static final int MAX_NAME_LENGTH = 255;

    private final SampleProperties.Upload limits;

    public UploadChecks(SampleProperties properties) {
        this.limits = properties.getUpload();
    }

    /** A file that passed: its bare name, type and bytes. */
    public record CheckedFile(String name, DocumentType type, byte[] bytes) {
    }

    public List<CheckedFile> check(List<MultipartFile> files) {
        if (files == null || files.isEmpty()) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "No files",
                    "The upload holds no files: send one or more files in the multipart field 'files'.");
        }
        if (files.size() > limits.getMaxFiles()) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "Too many files", "The upload holds " + files.size()
                    + " files; at most " + limits.getMaxFiles() + " are taken at once: upload them in smaller groups.");
        }
        return files.stream().map(this::check).toList();
    }

    CheckedFile check(MultipartFile file) {
        String name = bareName(file.getOriginalFilename());
        long max = limits.getMaxFileSize().toBytes();
        if (file.getSize() > max) {
            throw tooLarge(name, file.getSize(), limits.getMaxFileSize());
        }
        if (file.isEmpty()) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "Empty file",
                    "File '" + name + "' is empty: there is nothing to read in it.");
        }
        DocumentType type = DocumentType.ofFileName(name).orElseThrow(() -> new UploadRejected(
                HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported file type", "File '" + name + "' is not a kind of "
                + "document this app reads: upload " + DocumentType.accepted() + "."));
        if (!type.acceptsDeclared(file.getContentType())) {
            throw new UploadRejected(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Type does not match the name", "File '"
                    + name + "' was sent as " + file.getContentType() + ", which is not " + type.mediaType()
                    + " as its name says: rename it to what it is, or send it with the right type.");
        }
        byte[] bytes;
        try {
            bytes = file.getBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the upload of '" + name + "'", e);
        }
        type.contentMismatch(bytes).ifPresent(problem -> {
            throw new UploadRejected(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Content does not match the name",
                    "File '" + name + "' is named as " + type.mediaType() + " but " + problem + ".");
        });
        return new CheckedFile(name, type, bytes);
    }

    static UploadRejected tooLarge(String name, long size, DataSize max) {
        String what = name == null ? "A file" : "File '" + name + "'";
        String has = size > 0 ? " has " + megabytes(size) + ";" : " is larger than allowed;";
        return new UploadRejected(HttpStatus.CONTENT_TOO_LARGE, "File too large", what + has + " the limit is "
                + megabytes(max.toBytes()) + " (sample.upload.max-file-size): split it, or raise the limit.");
    }

    private static String megabytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1024.0 / 1024.0);
    }

    /**
     * The name as shown to people. It never names a place on disk (files are stored under generated ids), but a name
     * that holds a path or control characters is refused all the same: it is a client's mistake or an attack.
     */
    static String bareName(String original) {
        if (original == null || original.isBlank()) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "File without a name",
                    "A file was sent without a name: give each file its name (for example notes.txt).");
        }
        String name = original.strip();
        boolean control = name.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
        String shown = name.replaceAll("\\p{Cntrl}", "?");
        if (control || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "File name is a path", "File name '" + shown
                    + "' holds a path or control characters: send the file under its bare name (for example "
                    + "passwd.txt, not ../../etc/passwd.txt).");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "File name too long", "File name '"
                    + name.substring(0, 40) + "...' has " + name.length() + " characters; at most " + MAX_NAME_LENGTH
                    + " are kept: rename the file.");
        }
        return name;
    }
}
