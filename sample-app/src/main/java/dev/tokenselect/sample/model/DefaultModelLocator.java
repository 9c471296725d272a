package dev.tokenselect.sample.model;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.time.Duration;
import java.util.Optional;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.StringUtils;

import dev.tokenselect.engine.hub.HubClient;

/**
 * Without {@code spring.ai.tokenselect.model}, the app runs a Hugging Face model, {@code sample.default-model}
 * ({@value #DEFAULT_REPO} unless set): from the Hugging Face cache when a copy is there, else downloaded on the first
 * start (with progress in the log) when the Hub answers. On a machine without network and without a cached copy it
 * runs the repository's own {@code models/needle-14m} instead, found from the working directory upwards
 * ({@code spring-boot:run} starts in {@code sample-app/}), so it starts anywhere. Runs after the configuration files
 * are read, and adds the default below all of them.
 */
public class DefaultModelLocator implements EnvironmentPostProcessor, Ordered {

    private static final System.Logger LOG = System.getLogger(DefaultModelLocator.class.getName());

    public static final String MODEL_PROPERTY = "spring.ai.tokenselect.model";
    public static final String DEFAULT_MODEL_PROPERTY = "sample.default-model";
    static final String DEFAULT_REPO = "Qwen/Qwen2.5-0.5B-Instruct";
    static final Path DEFAULT_MODEL = Path.of("models", "needle-14m");
    /** How many directories above the working directory are searched. */
    static final int MAX_LEVELS = 6;

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (StringUtils.hasText(environment.getProperty(MODEL_PROPERTY))) {
            return;
        }
        String repo = environment.getProperty(DEFAULT_MODEL_PROPERTY, DEFAULT_REPO);
        String model = choose(HubClient.fromEnvironment(), repo, Path.of(System.getProperty("user.dir")));
        environment.getPropertySources().addLast(new MapPropertySource("sampleDefaultModel",
                Map.of(MODEL_PROPERTY, model)));
    }

    /**
     * The repo id when its snapshot is cached or the Hub answers; otherwise the bundled needle model found from
     * {@code start}. An empty {@code repo} goes straight to the bundled model.
     */
    static String choose(HubClient hub, String repo, Path start) {
        if (StringUtils.hasText(repo)) {
            if (cached(hub, repo)) {
                LOG.log(System.Logger.Level.INFO, "model {0}: from the Hugging Face cache in {1}", repo, hub.cacheDir());
                return repo;
            }
            if (!hub.offline() && reachable(hub, repo)) {
                LOG.log(System.Logger.Level.INFO, "model {0}: downloaded into {1} on this first start", repo,
                        hub.cacheDir());
                return repo;
            }
            LOG.log(System.Logger.Level.INFO, "model {0} is not cached and the Hub at {1} cannot be reached{2}:"
                    + " running the bundled {3}", repo, hub.endpoint(), hub.offline() ? " (offline mode)" : "",
                    DEFAULT_MODEL);
        }
        Path model = find(start).orElseThrow(() -> new IllegalStateException("No model is configured, "
                + (StringUtils.hasText(repo) ? repo + " is neither cached nor downloadable, and " : "")
                + DEFAULT_MODEL + " was not found in " + start.toAbsolutePath() + " or the " + MAX_LEVELS
                + " directories above it: set " + MODEL_PROPERTY + " to a model directory or a Hugging Face repo id "
                + "such as Qwen/Qwen2.5-0.5B-Instruct, or start the app inside the repository"));
        return model.toString();
    }

    private static boolean cached(HubClient hub, String repo) {
        try {
            HubClient.builder().endpoint(hub.endpoint().toString()).cacheDir(hub.cacheDir()).offline(true).build()
                    .resolve(repo, null);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether the Hub lists the repo within a few seconds (a quick look: the download itself is the starter's). */
    private static boolean reachable(HubClient hub, String repo) {
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            URI uri = URI.create(hub.endpoint().toString().replaceAll("/+$", "") + "/api/models/" + repo
                    + "/revision/main");
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The default model directory (one holding config.json) in {@code start} or above it. */
    static Optional<Path> find(Path start) {
        Path dir = start.toAbsolutePath().normalize();
        for (int level = 0; dir != null && level <= MAX_LEVELS; level++, dir = dir.getParent()) {
            Path candidate = dir.resolve(DEFAULT_MODEL);
            if (Files.isRegularFile(candidate.resolve("config.json"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    @Override
    public int getOrder() {
        return ConfigDataEnvironmentPostProcessor.ORDER + 1;
    }
}
