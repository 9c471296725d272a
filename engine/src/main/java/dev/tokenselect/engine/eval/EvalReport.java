package dev.tokenselect.engine.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Aggregates outcomes into accuracy cells and writes them as Markdown: a summary per policy and
 * length, and a table per task, policy and length with the sample counts, the seeds and the
 * selection-cache hit rate of every TokenSelect row.
 */
public final class EvalReport {

    public static final String BEGIN = "<!-- eval-results:begin -->";
    public static final String END = "<!-- eval-results:end -->";

    /** Counts of one (task or "all", policy, length); {@code rulerScores} sums RULER's score of each answer. */
    public record Cell(int samples, int correct, double rulerScores, long cacheHits, long cacheMisses, long promptTokens) {

        public double accuracy() {
            return samples == 0 ? Double.NaN : (double) correct / samples;
        }

        /** The mean of RULER's score over the cell's answers ({@link Scorer#rulerScore}). */
        public double rulerScore() {
            return samples == 0 ? Double.NaN : rulerScores / samples;
        }

        Cell plus(EvalHarness.Outcome o) {
            return new Cell(samples + 1, correct + (o.correct() ? 1 : 0), rulerScores + o.rulerScore(),
                    cacheHits + number(o.stats(), "cache_hits"), cacheMisses + number(o.stats(), "cache_misses"),
                    promptTokens + o.promptTokens());
        }

        Cell plus(Cell c) {
            return new Cell(samples + c.samples, correct + c.correct, rulerScores + c.rulerScores, cacheHits + c.cacheHits,
                    cacheMisses + c.cacheMisses, promptTokens + c.promptTokens);
        }

        /** Hits over lookups of the selection cache, NaN where it was never consulted. */
        public double hitRate() {
            long lookups = cacheHits + cacheMisses;
            return lookups == 0 ? Double.NaN : (double) cacheHits / lookups;
        }
    }

    private static final Cell EMPTY = new Cell(0, 0, 0, 0, 0, 0);

    private final EvalHarness.Config config;
    private final List<EvalHarness.Outcome> outcomes;
    private final String model;
    private final String backend;

    public EvalReport(EvalHarness.Config config, List<EvalHarness.Outcome> outcomes, String model, String backend) {
        this.config = config;
        this.outcomes = List.copyOf(outcomes);
        this.model = model;
        this.backend = backend;
    }

    /** The samples behind a row's cells: one number, or the range where a run ended early. */
    private static String samplesLabel(int fewest, int most) {
        return fewest == most ? String.valueOf(most) : fewest + "–" + most;
    }

    public EvalHarness.Config config() {
        return config;
    }

    public Cell cell(String task, String policy, int length) {
        Cell c = EMPTY;
        for (EvalHarness.Outcome o : outcomes) {
            if ((task == null || o.task().equals(task)) && o.policy().equals(policy) && o.length() == length) {
                c = c.plus(o);
            }
        }
        return c;
    }

    /** Accuracy over all tasks of each policy at each length: policy → length → accuracy. */
    public Map<String, Map<Integer, Double>> summary() {
        return summary(Score.EXACT);
    }

    /** The mean {@code score} over all tasks of each policy at each length: policy → length → mean. */
    public Map<String, Map<Integer, Double>> summary(Score score) {
        Map<String, Map<Integer, Double>> m = new LinkedHashMap<>();
        for (EvalPolicy p : config.policies()) {
            Map<Integer, Double> row = new LinkedHashMap<>();
            for (int len : config.lengths()) {
                row.put(len, score.of(cell(null, p.name(), len)));
            }
            m.put(p.name(), row);
        }
        return m;
    }

    public String markdown() {
        StringBuilder b = new StringBuilder();
        List<Integer> lengths = config.lengths();
        b.append("## Results\n\n");
        b.append(String.format(Locale.ROOT, "Model `%s`, backend %s; greedy decoding, at most %d new tokens; "
                + "%d samples per task and length; user seed %d. ", model, backend, config.maxTokens(), config.samples(),
                config.seed()));
        b.append("A cell is the fraction of answers that contain every expected string. ");
        b.append("The same sample seeds are used at every length (only the haystack grows).\n\n");

        b.append("### All tasks\n\n| policy | budget |");
        lengths.forEach(l -> b.append(' ').append(lengthLabel(l)).append(" |"));
        b.append(" samples per cell | cache hit rate |\n|---|---:|");
        lengths.forEach(l -> b.append("---:|"));
        b.append("---:|---:|\n");
        for (EvalPolicy p : config.policies()) {
            b.append("| ").append(p.name()).append(" | ").append(p.budget() < 0 ? "all" : String.valueOf(p.budget())).append(" |");
            appendCells(b, null, p, lengths);
        }
        b.append("\nMean prompt tokens per length:");
        for (int len : lengths) {
            Cell c = cell(null, config.policies().getFirst().name(), len);
            b.append(' ').append(lengthLabel(len)).append(" → ")
                    .append(c.samples == 0 ? "–" : String.valueOf(c.promptTokens / c.samples)).append(';');
        }
        b.setLength(b.length() - 1);
        b.append(".\n\n");

        b.append("### Per task\n\n| task | policy |");
        lengths.forEach(l -> b.append(' ').append(lengthLabel(l)).append(" |"));
        b.append(" samples per cell | cache hit rate |\n|---|---|");
        lengths.forEach(l -> b.append("---:|"));
        b.append("---:|---:|\n");
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                b.append("| ").append(task).append(" | ").append(p.name()).append(" |");
                appendCells(b, task, p, lengths);
            }
        }
        appendKeptShares(b, lengths);
        appendRulerScores(b, lengths);
        appendWrongCodes(b, lengths);
        new NeedleRecallTables(config, outcomes).append(b, lengths);
        b.append("\n### Seeds\n\nSample `i` of a task has seed `EvalSeeds.sampleSeed(")
                .append(config.seed()).append(", task, i)`; all are at or above 2^62, outside the training seeds (< 2^60).\n\n");
        b.append("| task | seeds |\n|---|---|\n");
        for (String task : config.tasks()) {
            int t = EvalTasks.TASKS.indexOf(task);
            long first = EvalSeeds.sampleSeed(config.seed(), t, 0);
            long last = EvalSeeds.sampleSeed(config.seed(), t, config.samples() - 1);
            b.append("| ").append(task).append(" | `0x").append(Long.toHexString(first)).append("` … `0x")
                    .append(Long.toHexString(last)).append("` |\n");
        }
        return b.toString();
    }

    /** The share of its {@code score} at the shortest length a policy keeps at {@code length} ({@link KeptShare}). */
    public KeptShare keptShare(String policy, int length, Score score) {
        return KeptShare.of(outcomes, policy, shortestLength(), length, score);
    }

    private int shortestLength() {
        return config.lengths().stream().mapToInt(Integer::intValue).min().orElseThrow();
    }

    /** Each policy's kept share at every longer length, on the questions answered at both. */
    private void appendKeptShares(StringBuilder b, List<Integer> lengths) {
        if (lengths.size() < 2) {
            return;
        }
        int reference = shortestLength();
        List<Integer> longer = lengths.stream().filter(l -> l > reference).toList();
        b.append("\n### Accuracy kept from ").append(lengthLabel(reference)).append("\n\n");
        b.append("A cell: the answers right at the length over those right at ").append(lengthLabel(reference))
                .append(" on the same questions (every task; only questions answered at both lengths count), in brackets"
                        + " the 2.5th and 97.5th percentiles of ").append(KeptShare.RESAMPLES)
                .append(" bootstrap resamplings of the questions; then right at the length / right at ")
                .append(lengthLabel(reference)).append(", of how many questions.\n\n");
        appendKeptTable(b, longer, Score.EXACT);
    }

    /** A table of each policy's kept share of {@code score} at each of {@code longer} lengths. */
    private void appendKeptTable(StringBuilder b, List<Integer> longer, Score score) {
        b.append("| policy |");
        longer.forEach(l -> b.append(' ').append(lengthLabel(l)).append(" |"));
        b.append("\n|---|");
        longer.forEach(l -> b.append("---:|"));
        b.append('\n');
        for (EvalPolicy p : config.policies()) {
            b.append("| ").append(p.name()).append(" |");
            for (int len : longer) {
                KeptShare k = keptShare(p.name(), len, score);
                b.append(' ').append(k.questions() == 0 ? "–" : keptLabel(k)).append(" |");
            }
            b.append('\n');
        }
    }

    /**
     * RULER's score (the share of expected strings an answer holds, case ignored) per task, policy and length,
     * and the share of it each policy keeps, where some answer was to hold more than one string (elsewhere it
     * is exact match).
     */
    private void appendRulerScores(StringBuilder b, List<Integer> lengths) {
        if (outcomes.stream().allMatch(o -> o.expected().size() == 1)) {
            return;
        }
        b.append("\n### RULER's score\n\nA cell: the mean over the answers of the share of the expected strings each"
                + " holds, case ignored (RULER's `string_match_all`); the cells above count an answer only when it holds"
                + " them all. Single-string tasks score as above.\n\n| task | policy |");
        lengths.forEach(l -> b.append(' ').append(lengthLabel(l)).append(" |"));
        b.append("\n|---|---|");
        lengths.forEach(l -> b.append("---:|"));
        b.append('\n');
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                b.append("| ").append(task).append(" | ").append(p.name()).append(" |");
                for (int len : lengths) {
                    b.append(' ').append(fmt(Score.RULER.of(cell(task, p.name(), len)))).append(" |");
                }
                b.append('\n');
            }
        }
        if (lengths.size() < 2) {
            return;
        }
        int reference = shortestLength();
        List<Integer> longer = lengths.stream().filter(l -> l > reference).toList();
        b.append("\nRULER's score kept from ").append(lengthLabel(reference))
                .append(", as the accuracy kept above (every task, the same questions at both lengths):\n\n");
        appendKeptTable(b, longer, Score.RULER);
    }

    private static String keptLabel(KeptShare k) {
        String counts = count(k.atLength()) + " / " + count(k.atReference()) + " of " + k.questions();
        if (k.atReference() == 0) {
            return "– (" + counts + ")";
        }
        return String.format(Locale.ROOT, "%.1f%% (%.0f-%.0f), %s", 100 * k.share(), 100 * k.low(), 100 * k.high(), counts);
    }

    /** The wrong codes of one task, policy and length ({@link WrongCodes}). */
    public WrongCodes wrongCodes(String task, String policy, int length) {
        WrongCodes w = WrongCodes.NONE;
        for (EvalHarness.Outcome o : outcomes) {
            if (o.task().equals(task) && o.policy().equals(policy) && o.length() == length) {
                w = w.plus(WrongCodes.of(o));
            }
        }
        return w;
    }

    /** The needle tasks' wrong codes per policy and length, where any answer gave one. */
    private void appendWrongCodes(StringBuilder b, List<Integer> lengths) {
        StringBuilder rows = new StringBuilder();
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                StringBuilder row = new StringBuilder("| " + task + " | " + p.name() + " |");
                boolean any = false;
                for (int len : lengths) {
                    WrongCodes w = wrongCodes(task, p.name(), len);
                    any |= w.all() > 0;
                    row.append(' ').append(w.all() == 0 ? "–" : w.otherNeedle() + " / " + w.all()).append(" |");
                }
                if (any) {
                    rows.append(row).append('\n');
                }
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        b.append("\n### Wrong codes in the needle tasks' misses\n\n");
        b.append("A cell: the wrong 6-digit codes in the wrong answers that are another needle's code from the same"
                + " haystack (a distractor won), of all their wrong codes (the rest are in no needle: half read or"
                + " invented).\n\n| task | policy |");
        lengths.forEach(l -> b.append(' ').append(lengthLabel(l)).append(" |"));
        b.append("\n|---|---|");
        lengths.forEach(l -> b.append("---:|"));
        b.append('\n').append(rows);
    }

    private String hitRate(EvalPolicy p, Cell row) {
        if (!p.isTokenSelect()) {
            return "–";
        }
        if (!p.spec().params().cacheEnabled()) {
            return "off";
        }
        return Double.isNaN(row.hitRate()) ? "n/a" : fmt(row.hitRate());
    }

    /** A summed score: whole where it is (exact match's counts), else to one decimal. */
    private static String count(double v) {
        // sums of thirds and quarters land a rounding off whole numbers
        return Math.abs(v - Math.rint(v)) < 1e-9 ? String.valueOf(Math.round(v)) : String.format(Locale.ROOT, "%.1f", v);
    }

    static String lengthLabel(int len) {
        return len % 1024 == 0 ? (len / 1024) + "K" : String.valueOf(len);
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static long number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number n ? n.longValue() : 0;
    }

    /**
     * Writes the results into {@code file}: between the {@link #BEGIN}/{@link #END} markers where the
     * file has them (the rest of the document stays), else the whole file is the results.
     */
    public void write(Path file) throws IOException {
        String results = BEGIN + "\n" + markdown() + END + "\n";
        String text = results;
        if (Files.exists(file)) {
            String old = Files.readString(file, StandardCharsets.UTF_8);
            int a = old.indexOf(BEGIN);
            int e = old.indexOf(END);
            if (a >= 0 && e > a) {
                text = old.substring(0, a) + results + old.substring(e + END.length()).replaceFirst("^\n", "");
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /**
     * A table row's cells after its labels: the accuracy at each length, the samples per cell (a range
     * where they differ) and the selection-cache hit rate; {@code task} null pools every task.
     */
    private void appendCells(StringBuilder b, String task, EvalPolicy p, List<Integer> lengths) {
        Cell row = EMPTY;
        int fewest = Integer.MAX_VALUE;
        int most = 0;
        for (int len : lengths) {
            Cell c = cell(task, p.name(), len);
            row = row.plus(c);
            fewest = Math.min(fewest, c.samples());
            most = Math.max(most, c.samples());
            b.append(' ').append(fmt(c.accuracy())).append(" |");
        }
        b.append(' ').append(samplesLabel(fewest, most)).append(" | ").append(hitRate(p, row)).append(" |\n");
    }

    /** Every outcome, one JSON-friendly map each (for --json), as the outcome log writes them. */
    public List<Map<String, Object>> rows() {
        return outcomes.stream().map(OutcomeLog::fields).toList();
    }
}
