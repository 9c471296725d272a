package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The huggingface_hub cache layout, so that models downloaded here and by Python tools are shared:
 * <pre>
 * {root}/models--{org}--{name}/blobs/{etag}                 file contents, named by their ETag
 *                             /snapshots/{commit}/{path}    relative symlinks to the blobs
 *                             /refs/{revision}              the commit hash the revision pointed to
 * {root}/.locks/models--{org}--{name}/{etag}.lock           one download of a blob at a time
 * </pre>
 */
final class HubCache {

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path root;

    HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    static boolean isCommitHash(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    Path repoDir(RepoId repo) {
        return root.resolve(repo.cacheFolderName());
    }

    Path blob(RepoId repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    Path incomplete(Path blob) {
        return blob.resolveSibling(blob.getFileName() + ".incomplete");
    }

    Path lockFile(RepoId repo, String etag) {
        return root.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock");
    }

    Path snapshot(RepoId repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    private Path ref(RepoId repo, String revision) {
        return repoDir(repo).resolve("refs").resolve(revision);
    }

    /** The commit a revision pointed to when it was last resolved online. */
    Optional<String> readRef(RepoId repo, String revision) {
        Path ref = ref(repo, revision);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            return isCommitHash(commit) ? Optional.of(commit) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ref, e);
        }
    }

    /** Records the commit of a branch or tag; a commit hash needs no ref (huggingface_hub writes none). */
    void writeRef(RepoId repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = ref(repo, revision);
        Files.createDirectories(ref.getParent());
        // a name of its own: concurrent resolves of one repo each write and rename their own file
        Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            moveAtomically(tmp, ref);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Makes {@code snapshotFile} point to {@code blob}: a relative symlink as huggingface_hub makes
     * (the cache can be moved), or a copy where the file system has no symlinks. Made under a
     * temporary name and renamed, so concurrent resolves of one snapshot do not collide.
     */
    void link(Path blob, Path snapshotFile) throws IOException {
        Files.createDirectories(snapshotFile.getParent());
        Path tmp = snapshotFile.resolveSibling(snapshotFile.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createSymbolicLink(tmp, snapshotFile.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            moveAtomically(tmp, snapshotFile); // replaces a dangling link left by a deleted blob
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
