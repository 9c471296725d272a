package dev.tokenselect.engine.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.tokenselect.engine.hub.HubClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code download REPO_ID}: a Hub model into the huggingface_hub cache; prints its snapshot directory. */
@Command(name = "download", description = "Download a model from the Hugging Face Hub into the huggingface_hub cache"
        + " (config, tokenizer, safetensors only) and print its snapshot directory.")
final class DownloadCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "REPO_ID", description = "Hugging Face repo id, e.g. Qwen/Qwen2.5-0.5B-Instruct")
    String repoId;

    @Option(names = "--revision", defaultValue = HubClient.DEFAULT_REVISION, paramLabel = "R",
            description = "Branch, tag or commit hash (default: ${DEFAULT-VALUE})")
    String revision;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Cache directory instead of HF_HUB_CACHE (default ~/.cache/huggingface/hub)")
    Path cacheDir;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        HubClient.Builder builder = HubClient.builderFromEnvironment();
        if (cacheDir != null) {
            builder.cacheDir(cacheDir);
        }
        HubClient hub = builder.build();
        Path snapshot = hub.resolve(repoId, revision);
        CliOutput out = CliOutput.of(spec.commandLine());
        if (out.json()) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("repo_id", repoId);
            result.put("revision", revision);
            result.put("path", snapshot.toString());
            result.put("cache_dir", hub.cacheDir().toString());
            out.object(result);
        } else {
            out.text(snapshot + System.lineSeparator());
        }
        return 0;
    }
}
