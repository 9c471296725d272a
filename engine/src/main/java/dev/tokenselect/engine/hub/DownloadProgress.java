package dev.tokenselect.engine.hub;

/**
 * How far the download of one file has come.
 *
 * @param repoId         the Hugging Face repo, {@code org/name}
 * @param file           the file's path in the repo
 * @param bytes          bytes on disk so far, resumed bytes included
 * @param totalBytes     the file's size, or -1 when the server did not say
 * @param bytesPerSecond recent transfer rate
 * @param done           true once the file is complete and verified
 */
public record DownloadProgress(String repoId, String file, long bytes, long totalBytes, double bytesPerSecond, boolean done) {

    /** Percent complete, or -1 when the size is unknown. */
    public double percent() {
        return totalBytes > 0 ? 100.0 * bytes / totalBytes : totalBytes == 0 ? 100.0 : -1;
    }
}
