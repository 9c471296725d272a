package dev.tokenselect.engine.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Which files of a repo inference needs: the configs, the tokenizer and the safetensors weights the
 * engine reads ({@code model.safetensors}, or the index and the shards it names). Everything else
 * (PyTorch {@code .bin}, GGUF, ONNX, other folders, READMEs) stays on the Hub.
 */
final class ModelFiles {

    static final String CONFIG = "config.json";
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";

    /** Small files, downloaded when the repo has them. */
    static final List<String> METADATA = List.of(CONFIG, "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json");

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int LISTED_FILES = 20;

    private ModelFiles() {
    }

    /** The config and tokenizer files the repo has; fails when it has no config.json or no safetensors weights. */
    static List<String> metadata(RepoInfo info, RepoId repo, String revision) {
        Set<String> files = Set.copyOf(info.files());
        if (!files.contains(CONFIG)) {
            throw new HubException("Hugging Face repo '" + repo + "' (revision '" + revision + "') has no " + CONFIG
                    + ", so it is not a transformers model the engine can load; its files: " + listing(info));
        }
        if (!files.contains(INDEX) && !files.contains(SINGLE)) {
            throw new HubException("Hugging Face repo '" + repo + "' (revision '" + revision + "') has no safetensors weights ("
                    + SINGLE + " or " + INDEX + "); the engine reads safetensors checkpoints only. Its files: " + listing(info));
        }
        List<String> out = new ArrayList<>();
        for (String name : METADATA) {
            if (files.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    /** The sharded index, when the repo has one; else the weights are {@link #SINGLE}. */
    static Optional<String> index(RepoInfo info) {
        return info.files().contains(INDEX) ? Optional.of(INDEX) : Optional.empty();
    }

    /** The shard files a downloaded {@code model.safetensors.index.json} names, each checked against the listing. */
    static List<String> shards(Path indexFile, RepoInfo info, RepoId repo) {
        JsonNode weightMap;
        try {
            weightMap = JSON.readTree(Files.readString(indexFile)).get("weight_map");
        } catch (IOException | JacksonException e) {
            throw new HubException("Cannot parse " + INDEX + " of Hugging Face repo '" + repo + "' (" + indexFile + "): "
                    + e.getMessage(), e);
        }
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new HubException(INDEX + " of Hugging Face repo '" + repo + "' has no \"weight_map\" (" + indexFile + ")");
        }
        Set<String> shards = new LinkedHashSet<>();
        for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
            String name = entry.getValue().asString();
            // a shard is a file next to the index: nothing that leaves the snapshot folder
            if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new HubException(INDEX + " of Hugging Face repo '" + repo + "' names an invalid shard '" + name + "'");
            }
            if (!info.files().contains(name)) {
                throw new HubException(INDEX + " of Hugging Face repo '" + repo + "' names shard '" + name
                        + "', which the repo does not have");
            }
            shards.add(name);
        }
        return List.copyOf(shards);
    }

    /**
     * What is wrong with a model directory, or empty when it holds config.json and every safetensors
     * file the engine will map.
     */
    static Optional<String> problem(Path dir) {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            return Optional.of("it has no " + CONFIG);
        }
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            try {
                JsonNode weightMap = JSON.readTree(Files.readString(index)).get("weight_map");
                if (weightMap == null || !weightMap.isObject()) {
                    return Optional.of(INDEX + " has no \"weight_map\"");
                }
                for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
                    String shard = entry.getValue().asString();
                    if (shard.isEmpty() || !Files.isRegularFile(dir.resolve(shard))) {
                        return Optional.of("shard '" + shard + "' named in " + INDEX + " is missing");
                    }
                }
                return Optional.empty();
            } catch (IOException | JacksonException e) {
                return Optional.of(INDEX + " cannot be read: " + e.getMessage());
            }
        }
        if (!Files.isRegularFile(dir.resolve(SINGLE))) {
            return Optional.of("it has no safetensors weights (" + SINGLE + " or " + INDEX + ")");
        }
        return Optional.empty();
    }

    private static String listing(RepoInfo info) {
        List<String> files = info.files();
        if (files.isEmpty()) {
            return "none";
        }
        String shown = String.join(", ", files.subList(0, Math.min(LISTED_FILES, files.size())));
        return files.size() > LISTED_FILES ? shown + ", ... (" + files.size() + " files)" : shown;
    }
}
