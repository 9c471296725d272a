package dev.tokenselect.engine.hub;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A Hugging Face model repo id, {@code name} or {@code namespace/name}, validated as huggingface_hub
 * validates it (so a cache folder name can always be derived from it and parsed back).
 */
record RepoId(String id) {

    // letters, digits, '-', '_' and '.'; '-' and '.' neither start nor end a part
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    private static final int MAX_LENGTH = 96;

    /** The repo id, or why {@code text} is not one. */
    static Optional<String> problem(String text) {
        if (text.isEmpty()) {
            return Optional.of("it is empty");
        }
        if (text.length() > MAX_LENGTH) {
            return Optional.of("it is longer than " + MAX_LENGTH + " characters");
        }
        String[] parts = text.split("/", -1);
        if (parts.length > 2) {
            return Optional.of("a repo id has the form 'name' or 'namespace/name'");
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches()) {
                return Optional.of("'" + part + "' is not a valid name: use letters, digits, '-', '_' and '.',"
                        + " with '-' and '.' neither first nor last");
            }
        }
        if (text.contains("--") || text.contains("..")) {
            return Optional.of("'--' and '..' are not allowed in a repo id");
        }
        if (text.endsWith(".git")) {
            return Optional.of("a repo id does not end in '.git'");
        }
        return Optional.empty();
    }

    static RepoId parse(String text) {
        problem(text).ifPresent(p -> {
            throw new IllegalArgumentException("'" + text + "' is not a Hugging Face repo id: " + p);
        });
        return new RepoId(text);
    }

    /** The cache folder of the repo, as huggingface_hub names it: {@code models--org--name}. */
    String cacheFolderName() {
        return "models--" + id.replace("/", "--");
    }

    @Override
    public String toString() {
        return id;
    }
}
