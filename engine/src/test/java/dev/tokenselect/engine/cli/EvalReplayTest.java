package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.eval.EvalHarness.Outcome;
import dev.tokenselect.engine.eval.OutcomeLog;

/** {@code eval --replay}: a whole file by default; the tasks, lengths, policies and samples given keep only those answers. */
class EvalReplayTest {

    private static final Path MODEL = Path.of("..", "models", "needle-14m");

    @TempDir
    Path tmp;

    private static Outcome outcome(String task, int length, String policy, int sample, boolean correct) {
        return new Outcome(task, length, policy, sample, 1000L + sample, length - 3, correct ? "123456" : "999999",
                List.of("123456"), correct, Map.of("cache_hit_rate", 0.0));
    }

    /** Two tasks, two lengths, two policies, four samples; `full` right on samples 0-1 only, `ts-2048` always. */
    private Path outcomes() {
        Path file = tmp.resolve("outcomes.jsonl");
        for (String task : List.of("niah_single_noise", "niah_multikey")) {
            for (int length : List.of(4096, 8192)) {
                for (int i = 0; i < 4; i++) {
                    OutcomeLog.append(file, outcome(task, length, "full", i, i < 2));
                    OutcomeLog.append(file, outcome(task, length, "ts-2048", i, true));
                }
            }
        }
        return file;
    }

    private record Run(int code, String stderr) {
    }

    private static Run eval(Path file, Path out, String... filters) {
        List<String> args = new ArrayList<>(List.of("--replay", file.toString(), "--out", out.toString()));
        args.addAll(List.of(filters));
        return eval(args);
    }

    /** {@code eval --model MODEL --quiet} followed by {@code options}. */
    private static Run eval(List<String> options) {
        List<String> args = new ArrayList<>(List.of("eval", "--model", MODEL.toString(), "--quiet"));
        args.addAll(options);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args.toArray(String[]::new));
        return new Run(code, err.toString(StandardCharsets.UTF_8));
    }

    private static String replay(Path file, Path out, String... filters) throws IOException {
        Run run = eval(file, out, filters);
        assertEquals(0, run.code(), run.stderr());
        return Files.readString(out);
    }

    @Test
    void aReplayReportsTheWholeFileUnlessToldOtherwise() throws IOException {
        String report = replay(outcomes(), tmp.resolve("all.md"));
        // the file's own tasks, lengths, policies and samples, not the defaults: 2 tasks x 4 samples per cell
        assertTrue(report.contains("4 samples per task and length"), report);
        assertTrue(report.contains("| policy | budget | 4K | 8K | samples per cell |"), report);
        assertTrue(report.contains("| full | all | 0.50 | 0.50 | 8 |"), report);
        assertTrue(report.contains("| ts-2048 | 2688 | 1.00 | 1.00 | 8 |"), report);
        assertFalse(report.contains("| vt |"), report);
    }

    /** --json: the exact-match summary and RULER's, per policy and length, and every answer. */
    @Test
    void jsonCarriesBothSummaries() throws IOException {
        Path file = tmp.resolve("multi.jsonl");
        List<String> codes = List.of("111111", "222222", "333333", "444444");
        for (int i = 0; i < 2; i++) {
            String answer = i == 0 ? "111111 222222 333333 444444" : "111111 222222 333333 999999";
            OutcomeLog.append(file, new Outcome("niah_multivalue", 4096, "ts-2048", i, 1000L + i, 4090, answer, codes,
                    i == 0, Map.of()));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                StandardCharsets.UTF_8), "eval", "--model", MODEL.toString(), "--quiet", "--json", "--replay", file.toString());
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        tools.jackson.databind.JsonNode json = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(out.toString(StandardCharsets.UTF_8));
        assertEquals(0.5, json.get("summary").get("ts-2048").get("4096").asDouble());
        assertEquals(0.875, json.get("ruler_summary").get("ts-2048").get("4096").asDouble());
        assertEquals(2, json.get("outcomes").size());
    }

    @Test
    void givenOptionsKeepOnlyTheirAnswers() throws IOException {
        String report = replay(outcomes(), tmp.resolve("some.md"), "--samples", "2", "--policies", "full",
                "--tasks", "niah_multikey", "--lengths", "4096");
        // samples 0-1 of one task at one length, full attention only: both right
        assertTrue(report.contains("| full | all | 1.00 | 2 |"), report);
        assertFalse(report.contains("| ts-2048 |"), report);
        assertFalse(report.contains("niah_single_noise"), report);
        assertFalse(report.contains("8K"), report);
        assertTrue(report.contains("2 samples per task and length"), report);
    }

    @Test
    void aFilterThatKeepsNothingIsAnError() {
        Run run = eval(outcomes(), tmp.resolve("none.md"), "--tasks", "kv");
        assertTrue(run.code() != 0);
        assertTrue(run.stderr().contains("none of the 32 answers"), run.stderr());
        assertFalse(Files.exists(tmp.resolve("none.md")));
    }

    @Test
    void theFilterKeepsWhatEachGivenOptionNames() {
        List<Outcome> all = List.of(outcome("vt", 4096, "full", 0, true), outcome("vt", 4096, "full", 5, true),
                outcome("kv", 8192, "ts-2048", 1, false));
        assertEquals(3, EvalCommand.replayed(all, null, null, null, null).size());
        assertEquals(1, EvalCommand.replayed(all, null, null, null, 3).stream().filter(o -> o.task().equals("vt")).count());
        assertEquals(List.of(all.get(2)), EvalCommand.replayed(all, List.of("kv"), null, null, null));
        assertEquals(List.of(all.get(2)), EvalCommand.replayed(all, null, List.of(8192), null, null));
        assertEquals(List.of(all.get(0), all.get(1)), EvalCommand.replayed(all, null, null, List.of("full"), null));
    }

    /** --paired: only the questions every policy answered at every length; refused without --replay. */
    @Test
    void pairedKeepsTheQuestionsEveryPolicyAnsweredAtEveryLength() throws IOException {
        List<Outcome> all = List.of(outcome("vt", 4096, "full", 0, true), outcome("vt", 8192, "full", 0, true),
                outcome("vt", 4096, "ts-2048", 0, true), outcome("vt", 8192, "ts-2048", 0, false),
                // sample 1: ts-2048 never ran at 8K; sample 2 of another task: complete
                outcome("vt", 4096, "full", 1, true), outcome("vt", 8192, "full", 1, true),
                outcome("vt", 4096, "ts-2048", 1, true),
                outcome("kv", 4096, "full", 2, false), outcome("kv", 8192, "full", 2, false),
                outcome("kv", 4096, "ts-2048", 2, true), outcome("kv", 8192, "ts-2048", 2, true));
        List<Outcome> paired = EvalCommand.pairedQuestions(all);
        assertEquals(8, paired.size());
        assertTrue(paired.stream().noneMatch(o -> o.sample() == 1), paired.toString());
        // through the command: without --paired the 4K cell of ts-2048 holds three questions, with it two
        Path file = tmp.resolve("paired.jsonl");
        for (Outcome o : all) {
            OutcomeLog.append(file, o);
        }
        String whole = replay(file, tmp.resolve("whole.md"));
        assertTrue(whole.contains("| ts-2048 | 2688 | 1.00 | 0.50 | 2–3 |"), whole);
        String same = replay(file, tmp.resolve("same.md"), "--paired");
        assertTrue(same.contains("| ts-2048 | 2688 | 1.00 | 0.50 | 2 |"), same);
        Run refused = eval(List.of("--paired", "--lengths", "4096"));
        assertTrue(refused.code() != 0);
        assertTrue(refused.stderr().contains("--paired") && refused.stderr().contains("--replay"), refused.stderr());
    }

    @Test
    void aQuestionInTwoFilesCountsOnceWithItsFirstAnswer() throws IOException {
        Path first = outcomes();
        // a resumed run's file: two answers of the first file again (here with another verdict) and one new
        Path resumed = tmp.resolve("resumed.jsonl");
        OutcomeLog.append(resumed, outcome("niah_multikey", 4096, "full", 0, false));
        OutcomeLog.append(resumed, outcome("niah_multikey", 4096, "full", 3, true));
        OutcomeLog.append(resumed, outcome("niah_multikey", 4096, "full", 4, true));
        String report = replay(Path.of(first + "," + resumed), tmp.resolve("resumed.md"), "--tasks", "niah_multikey",
                "--lengths", "4096", "--policies", "full");
        // samples 0-4: right on 0, 1 (first file) and 4 (new); 2 and 3 wrong in the first file
        assertTrue(report.contains("| full | all | 0.60 | 5 |"), report);
        List<Outcome> all = List.of(outcome("vt", 4096, "full", 0, true), outcome("vt", 4096, "full", 0, false),
                outcome("vt", 8192, "full", 0, false), outcome("vt", 4096, "ts-2048", 0, false));
        assertEquals(List.of(all.get(0), all.get(2), all.get(3)), EvalCommand.oncePerQuestion(all));
    }

    @Test
    void aCompressedFileAndAPlainOneReplayTogetherAndACompressedOneCannotTakeAnswers() throws IOException {
        Path plain = outcomes();
        // samples 4-5 of one cell in a gzip file beside the plain one: full right on both
        Path gz = tmp.resolve("more.jsonl.gz");
        Path more = tmp.resolve("more.jsonl");
        OutcomeLog.append(more, outcome("niah_multikey", 4096, "full", 4, true));
        OutcomeLog.append(more, outcome("niah_multikey", 4096, "full", 5, true));
        try (var out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(Files.readAllBytes(more));
        }
        String report = replay(Path.of(plain + "," + gz), tmp.resolve("both.md"), "--tasks", "niah_multikey",
                "--lengths", "4096", "--policies", "full");
        // 4 of the 6 right: samples 0-1 and 4-5
        assertTrue(report.contains("| full | all | 0.67 | 6 |"), report);

        Run refused = eval(List.of("--outcomes", gz.toString(), "--resume", "--samples", "1", "--lengths", "4096"));
        assertTrue(refused.code() != 0);
        assertTrue(refused.stderr().contains("plain JSON lines"), refused.stderr());
        assertEquals(2, OutcomeLog.read(gz).size());
    }
}
