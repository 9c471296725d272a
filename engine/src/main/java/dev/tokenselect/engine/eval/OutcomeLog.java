package dev.tokenselect.engine.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Outcomes as they happen, one JSON object a line, so that a run stopped by a time limit keeps every
 * answer it gave and runs split over several machines can be merged into one report. Also reads the
 * harness's progress lines ({@code task len L sample i (N tokens) policy: ok "text" (t s)}), which
 * carry everything but the attention statistics.
 */
public final class OutcomeLog {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern PROGRESS = Pattern.compile(
            "(\\S+) len (\\d+) sample (\\d+) \\((\\d+) tokens\\) (\\S+): (ok|WRONG)\\s+\"(.*)\" \\(([\\d.]+) s\\).*");

    private OutcomeLog() {
    }

    public static void append(Path file, EvalHarness.Outcome o) {
        try {
            Files.writeString(file, JSON.writeValueAsString(fields(o)) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
    }

    /** An outcome as the JSON object a line of the log holds (also the report's --json rows). */
    public static Map<String, Object> fields(EvalHarness.Outcome o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", o.task());
        m.put("length", o.length());
        m.put("policy", o.policy());
        m.put("sample", o.sample());
        m.put("seed", o.seed());
        m.put("prompt_tokens", o.promptTokens());
        m.put("generated", o.generated());
        m.put("expected", o.expected());
        m.put("correct", o.correct());
        m.put("stats", o.stats());
        return m;
    }

    /**
     * Outcomes of JSON lines and of progress lines; other lines (logs) are skipped. A file whose name ends
     * in {@code .gz} is read through gzip (answers kept beside a report are stored compressed).
     */
    public static List<EvalHarness.Outcome> read(Path file) throws IOException {
        List<EvalHarness.Outcome> out = new ArrayList<>();
        for (String line : lines(file)) {
            String s = line.strip();
            if (s.startsWith("{")) {
                JsonNode n = JSON.readTree(s);
                out.add(new EvalHarness.Outcome(n.get("task").asString(), n.get("length").asInt(), n.get("policy").asString(),
                        n.get("sample").asInt(), n.get("seed").asLong(), n.get("prompt_tokens").asInt(),
                        n.get("generated").asString(), JSON.convertValue(n.get("expected"), new TypeReference<List<String>>() { }),
                        n.get("correct").asBoolean(),
                        JSON.convertValue(n.get("stats"), new TypeReference<Map<String, Object>>() { })));
                continue;
            }
            Matcher m = PROGRESS.matcher(s);
            if (m.matches()) {
                out.add(new EvalHarness.Outcome(m.group(1), Integer.parseInt(m.group(2)), m.group(5),
                        Integer.parseInt(m.group(3)), 0, Integer.parseInt(m.group(4)), m.group(7), List.of(),
                        m.group(6).equals("ok"), Map.of()));
            }
        }
        return out;
    }

    /** Whether a file is read through gzip. */
    public static boolean compressed(Path file) {
        return file.getFileName().toString().endsWith(".gz");
    }

    private static List<String> lines(Path file) throws IOException {
        if (!compressed(file)) {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        }
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        } catch (java.util.zip.ZipException e) {
            throw new IOException(file + " is not a gzip file (" + e.getMessage() + "): name it without .gz if it"
                    + " holds plain JSON lines", e);
        }
    }
}
