package dev.tokenselect.sample.documents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.tokenselect.sample.SampleProperties;

/**
 * The uploaded files as they came, each under its document's generated id in {@code sample.data-dir/files}: a
 * client's file name never becomes a path.
 */
@Component
public class StoredFiles {

    private final Path root;

    public StoredFiles(SampleProperties properties) {
        this.root = properties.getDataDir().resolve("files").toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** Writes the bytes under {@code id}, whole or not at all. */
    public void store(UUID id, byte[] bytes) {
        try {
            Files.createDirectories(root);
            Path tmp = Files.createTempFile(root, "upload-", ".part");
            try {
                Files.write(tmp, bytes);
                Files.move(tmp, path(id), StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store an upload in " + root + ": " + e.getMessage(), e);
        }
    }

    public void delete(UUID id) {
        try {
            Files.deleteIfExists(path(id));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path(id) + ": " + e.getMessage(), e);
        }
    }

    Path path(UUID id) {
        return root.resolve(id.toString());
    }
}
