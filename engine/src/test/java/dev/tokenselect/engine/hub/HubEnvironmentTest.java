package dev.tokenselect.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The environment read as huggingface_hub reads it; the token observed on the wire of a local Hub. */
class HubEnvironmentTest {

    @TempDir
    Path home;

    private HubClient client(Map<String, String> env) {
        return HubEnvironment.builder(env, home).build();
    }

    @Test
    void theCacheDefaultsToHfHomeThenXdgCacheHomeThenTheUserHome() {
        assertEquals(home.resolve(".cache/huggingface/hub"), client(Map.of()).cacheDir());
        assertEquals(Path.of("/xdg/huggingface/hub"), client(Map.of("XDG_CACHE_HOME", "/xdg")).cacheDir());
        assertEquals(Path.of("/hf/hub"), client(Map.of("HF_HOME", "/hf", "XDG_CACHE_HOME", "/xdg")).cacheDir());
        assertEquals(Path.of("/legacy"), client(Map.of("HF_HOME", "/hf", "HUGGINGFACE_HUB_CACHE", "/legacy")).cacheDir());
        assertEquals(Path.of("/cache"), client(Map.of("HF_HOME", "/hf", "HUGGINGFACE_HUB_CACHE", "/legacy",
                "HF_HUB_CACHE", "/cache")).cacheDir());
        assertEquals(home.resolve("models/hub"), client(Map.of("HF_HOME", "~/models")).cacheDir());
    }

    @Test
    void theEndpointDefaultsToHuggingFaceCoWithoutATrailingSlash() {
        assertEquals(URI.create("https://huggingface.co"), client(Map.of()).endpoint());
        assertEquals(URI.create("https://hf-mirror.example/prefix"),
                client(Map.of("HF_ENDPOINT", "https://hf-mirror.example/prefix/")).endpoint());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client(Map.of("HF_ENDPOINT", "huggingface.co")));
        assertTrue(e.getMessage().contains("not an http(s) URL"), e.getMessage());
    }

    @Test
    void offlineIsOneOnYesOrTrueInEitherVariable() {
        for (String yes : List.of("1", "ON", "yes", "True")) {
            assertTrue(client(Map.of("HF_HUB_OFFLINE", yes)).offline(), yes);
            assertTrue(client(Map.of("TRANSFORMERS_OFFLINE", yes)).offline(), yes);
        }
        for (String no : List.of("0", "off", "false", "")) {
            assertFalse(client(Map.of("HF_HUB_OFFLINE", no)).offline(), no);
        }
        assertFalse(client(Map.of()).offline());
    }

    @Test
    void badTimeoutsAreRejectedNamingTheVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> client(Map.of("HF_HUB_DOWNLOAD_TIMEOUT", "soon")));
        assertTrue(e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT='soon'"), e.getMessage());
    }

    /** Which token reaches the Hub: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the token file of `hf auth login`. */
    @Test
    void theTokenComesFromHfTokenThenTheLegacyVariableThenTheTokenFile() throws IOException {
        try (LocalHub hub = new LocalHub()) {
            hub.add("tiny-org/private", Map.of("config.json", "{}".getBytes()), LocalHub.Access.PRIVATE);
            Path hfHome = Files.createDirectories(home.resolve("hf"));
            Files.writeString(hfHome.resolve("token"), "from-file\n");
            Map<String, String> base = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HOME", hfHome.toString());

            assertEquals("Bearer from-file", authorizationSent(hub, base));
            assertEquals("Bearer legacy", authorizationSent(hub, with(base, "HUGGING_FACE_HUB_TOKEN", "legacy")));
            assertEquals("Bearer " + LocalHub.TOKEN, authorizationSent(hub,
                    with(with(base, "HUGGING_FACE_HUB_TOKEN", "legacy"), "HF_TOKEN", LocalHub.TOKEN)));

            Path other = Files.writeString(home.resolve("elsewhere"), "path-token");
            assertEquals("Bearer path-token", authorizationSent(hub, with(base, "HF_TOKEN_PATH", other.toString())));
            Files.delete(hfHome.resolve("token"));
            assertEquals(null, authorizationSent(hub, base));
        }
    }

    private String authorizationSent(LocalHub hub, Map<String, String> env) {
        hub.clearRequests();
        try {
            client(env).resolve("tiny-org/private", null);
        } catch (HubException expected) {
            // only the token is looked at here: the private repo has no weights
        }
        return hub.requests().getFirst().authorization();
    }

    private static Map<String, String> with(Map<String, String> env, String key, String value) {
        Map<String, String> out = new java.util.HashMap<>(env);
        out.put(key, value);
        return out;
    }
}
