package dev.tokenselect.sample.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.StringUtils;

/**
 * Without {@code spring.ai.tokenselect.model}, the app runs the repository's own {@code models/needle-14m}, found
 * from the working directory upwards ({@code spring-boot:run} starts in {@code sample-app/}), so it starts on a
 * machine without network. Runs after the configuration files are read, and adds the default below all of them.
 */
public class DefaultModelLocator implements EnvironmentPostProcessor, Ordered {

    public static final String MODEL_PROPERTY = "spring.ai.tokenselect.model";
    static final Path DEFAULT_MODEL = Path.of("models", "needle-14m");
    /** How many directories above the working directory are searched. */
    static final int MAX_LEVELS = 6;

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (StringUtils.hasText(environment.getProperty(MODEL_PROPERTY))) {
            return;
        }
        Path start = Path.of(System.getProperty("user.dir"));
        Path model = find(start).orElseThrow(() -> new IllegalStateException("No model is configured and "
                + DEFAULT_MODEL + " was not found in " + start.toAbsolutePath() + " or the " + MAX_LEVELS
                + " directories above it: set " + MODEL_PROPERTY + " to a model directory or a Hugging Face repo id "
                + "such as Qwen/Qwen2.5-0.5B-Instruct, or start the app inside the repository"));
        environment.getPropertySources().addLast(new MapPropertySource("sampleDefaultModel",
                Map.of(MODEL_PROPERTY, model.toString())));
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
