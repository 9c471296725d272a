package dev.tokenselect.sample.model;

import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.stereotype.Component;

import dev.tokenselect.spring.autoconfigure.TokenSelectProperties;

/**
 * The name clients see for the model: the repo id it was downloaded as ({@code Qwen/Qwen2.5-0.5B-Instruct}), or the
 * name of its directory ({@code needle-14m}).
 */
@Component
public class ServedModel {

    private final String id;

    public ServedModel(TokenSelectProperties properties) {
        this.id = idOf(properties.getModel());
    }

    public String id() {
        return id;
    }

    static String idOf(String model) {
        String m = model.strip();
        Path dir = Path.of(m.startsWith("~/") ? System.getProperty("user.home") + m.substring(1) : m);
        if (Files.isDirectory(dir)) {
            Path name = dir.toAbsolutePath().normalize().getFileName();
            return name == null ? m : name.toString();
        }
        return m;
    }
}
