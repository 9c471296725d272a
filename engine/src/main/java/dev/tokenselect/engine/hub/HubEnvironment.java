package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The settings huggingface_hub takes from the environment, read the same way:
 * <ul>
 * <li>{@code HF_HUB_CACHE} (or the older {@code HUGGINGFACE_HUB_CACHE}), else {@code $HF_HOME/hub}; {@code HF_HOME}
 * defaults to {@code $XDG_CACHE_HOME/huggingface}, that to {@code ~/.cache/huggingface}</li>
 * <li>{@code HF_ENDPOINT}, default {@code https://huggingface.co}</li>
 * <li>{@code HF_TOKEN} (or {@code HUGGING_FACE_HUB_TOKEN}), else the file {@code HF_TOKEN_PATH}, default
 * {@code $HF_HOME/token}, that {@code hf auth login} writes</li>
 * <li>{@code HF_HUB_OFFLINE} or {@code TRANSFORMERS_OFFLINE} = 1, ON, YES or TRUE</li>
 * <li>{@code HF_HUB_ETAG_TIMEOUT} (connect) and {@code HF_HUB_DOWNLOAD_TIMEOUT} (read), seconds, default 10</li>
 * </ul>
 */
final class HubEnvironment {

    private static final Set<String> TRUE = Set.of("1", "ON", "YES", "TRUE");

    private HubEnvironment() {
    }

    static HubClient.Builder builder(Map<String, String> env, Path userHome) {
        Path hfHome = path(env.get("HF_HOME"), userHome);
        if (hfHome == null) {
            Path xdg = path(env.get("XDG_CACHE_HOME"), userHome);
            hfHome = (xdg != null ? xdg : userHome.resolve(".cache")).resolve("huggingface");
        }
        Path cache = path(env.get("HF_HUB_CACHE"), userHome);
        if (cache == null) {
            cache = path(env.get("HUGGINGFACE_HUB_CACHE"), userHome);
        }
        if (cache == null) {
            cache = hfHome.resolve("hub");
        }
        Path tokenPath = path(env.get("HF_TOKEN_PATH"), userHome);
        HubClient.Builder b = HubClient.builder()
                .cacheDir(cache)
                .token(token(env, tokenPath != null ? tokenPath : hfHome.resolve("token")))
                .offline(isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("TRANSFORMERS_OFFLINE")))
                .connectTimeout(seconds(env, "HF_HUB_ETAG_TIMEOUT"))
                .readTimeout(seconds(env, "HF_HUB_DOWNLOAD_TIMEOUT"));
        String endpoint = env.get("HF_ENDPOINT");
        if (endpoint != null && !endpoint.isBlank()) {
            b.endpoint(endpoint);
        }
        return b;
    }

    static boolean isTrue(String value) {
        return value != null && TRUE.contains(value.strip().toUpperCase(Locale.ROOT));
    }

    private static String token(Map<String, String> env, Path tokenFile) {
        String token = clean(env.get("HF_TOKEN"));
        if (token == null) {
            token = clean(env.get("HUGGING_FACE_HUB_TOKEN"));
        }
        if (token == null && Files.isRegularFile(tokenFile)) {
            try {
                token = clean(Files.readString(tokenFile, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the Hugging Face token file " + tokenFile, e);
            }
        }
        return token;
    }

    private static String clean(String token) {
        if (token == null) {
            return null;
        }
        String t = token.replace("\r", "").replace("\n", "").strip();
        return t.isEmpty() ? null : t;
    }

    private static Duration seconds(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return HubClient.DEFAULT_TIMEOUT;
        }
        try {
            double s = Double.parseDouble(value.strip());
            if (s > 0) {
                return Duration.ofMillis((long) (s * 1000));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + "='" + value + "' is not a positive number of seconds");
    }

    /** A path from the environment, with {@code ~} expanded as huggingface_hub expands it. */
    private static Path path(String value, Path userHome) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.strip();
        if (v.equals("~")) {
            return userHome;
        }
        if (v.startsWith("~/")) {
            return userHome.resolve(v.substring(2));
        }
        return Path.of(v);
    }
}
