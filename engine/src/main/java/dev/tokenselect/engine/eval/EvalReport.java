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

    /** Counts of one (task or "all", policy, length). */
    public record Cell(int samples, int correct, long cacheHits, long cacheMisses, long promptTokens) {

        public double accuracy() {
            return samples == 0 ? Double.NaN : (double) correct / samples;
        }

        Cell plus(EvalHarness.Outcome o) {
            return new Cell(samples + 1, correct + (o.correct() ? 1 : 0), cacheHits + number(o.stats(), "cache_hits"),
                    cacheMisses + number(o.stats(), "cache_misses"), promptTokens + o.promptTokens());
        }

        Cell plus(Cell c) {
            return new Cell(samples + c.samples, correct + c.correct, cacheHits + c.cacheHits,
                    cacheMisses + c.cacheMisses, promptTokens + c.promptTokens);
        }

        /** Hits over lookups of the selection cache, NaN where it was never consulted. */
        public double hitRate() {
            long lookups = cacheHits + cacheMisses;
            return lookups == 0 ? Double.NaN : (double) cacheHits / lookups;
        }
    }

    private static final Cell EMPTY = new Cell(0, 0, 0, 0, 0);

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
        Map<String, Map<Integer, Double>> m = new LinkedHashMap<>();
        for (EvalPolicy p : config.policies()) {
            Map<Integer, Double> row = new LinkedHashMap<>();
            for (int len : config.lengths()) {
                row.put(len, cell(null, p.name(), len).accuracy());
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
        appendWrongCodes(b, lengths);
        appendNeedleRecall(b, lengths);
        appendNamedNeedles(b, lengths);
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

    /** The share of its accuracy at the shortest length a policy keeps at {@code length} ({@link KeptShare}). */
    public KeptShare keptShare(String policy, int length) {
        return KeptShare.of(outcomes, policy, shortestLength(), length);
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
                .append(lengthLabel(reference)).append(", of how many questions.\n\n| policy |");
        longer.forEach(l -> b.append(' ').append(lengthLabel(l)).append(" |"));
        b.append("\n|---|");
        longer.forEach(l -> b.append("---:|"));
        b.append('\n');
        for (EvalPolicy p : config.policies()) {
            b.append("| ").append(p.name()).append(" |");
            for (int len : longer) {
                KeptShare k = keptShare(p.name(), len);
                b.append(' ').append(k.questions() == 0 ? "–" : keptLabel(k)).append(" |");
            }
            b.append('\n');
        }
    }

    private static String keptLabel(KeptShare k) {
        String counts = k.atLength() + " / " + k.atReference() + " of " + k.questions();
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

    /**
     * Where answers were traced ({@link NeedleRecall}): the mean share of the asked codes' tokens the
     * answer-making selections kept, and the share of those selections that kept every one, for the
     * right and the wrong answers apart.
     */
    private void appendNeedleRecall(StringBuilder b, List<Integer> lengths) {
        StringBuilder rows = new StringBuilder();
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                for (int len : lengths) {
                    double[] right = recall(task, p.name(), len, true);
                    double[] wrong = recall(task, p.name(), len, false);
                    if (right[0] + wrong[0] == 0) {
                        continue;
                    }
                    rows.append("| ").append(task).append(" | ").append(p.name()).append(" | ").append(lengthLabel(len))
                            .append(" | ").append((int) right[0]).append(" | ").append(recallCell(right, 1)).append(" | ")
                            .append(recallCell(right, 2)).append(" | ").append((int) wrong[0]).append(" | ")
                            .append(recallCell(wrong, 1)).append(" | ").append(recallCell(wrong, 2)).append(" |\n");
                }
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        b.append("\n### The asked codes in the selections\n\n");
        b.append("For the answers traced with --needle-recall: over the selections that made each answer (the prompt's"
                + " last chunk and every decode step, each layer), the mean share of the asked codes' prompt tokens"
                + " attended (kept) and the share of selections that attended every one of them (all kept), averaged"
                + " over the right answers and over the wrong ones.\n\n");
        b.append("| task | policy | length | right answers | kept | all kept | wrong answers | kept | all kept |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n").append(rows);
        appendRecallByLayer(b, lengths);
    }

    /**
     * The wrong answers that name another needle's code: how much of the asked code their selections
     * kept against the named one and the needles neither asked nor named. If the named code was kept
     * more than the asked one, the selection steered the model to the distractor.
     */
    private void appendNamedNeedles(StringBuilder b, List<Integer> lengths) {
        StringBuilder rows = new StringBuilder();
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                for (int len : lengths) {
                    double[] sum = new double[4]; // answers, asked, named, neither
                    int neitherCount = 0;
                    for (EvalHarness.Outcome o : outcomes) {
                        if (!o.task().equals(task) || !o.policy().equals(p.name()) || o.length() != len || o.correct()
                                || !(o.stats().get(NeedleRecall.BY_CODE) instanceof Map<?, ?> byCode)) {
                            continue;
                        }
                        List<String> named = WrongCodes.codesIn(o.generated()).stream()
                                .filter(c -> byCode.containsKey(c) && !o.expected().contains(c)).distinct().toList();
                        if (named.isEmpty()) {
                            continue;
                        }
                        sum[0]++;
                        sum[1] += meanOf(byCode, o.expected());
                        sum[2] += meanOf(byCode, named);
                        List<String> neither = byCode.keySet().stream().map(String::valueOf)
                                .filter(c -> !o.expected().contains(c) && !named.contains(c)).toList();
                        if (!neither.isEmpty()) {
                            sum[3] += meanOf(byCode, neither);
                            neitherCount++;
                        }
                    }
                    if (sum[0] == 0) {
                        continue;
                    }
                    rows.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.3f | %.3f | %s |%n", task, p.name(),
                            lengthLabel(len), (int) sum[0], sum[1] / sum[0], sum[2] / sum[0],
                            neitherCount == 0 ? "–" : String.format(Locale.ROOT, "%.3f", sum[3] / neitherCount)));
                }
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        b.append("\n### The codes the wrong answers named, in their selections\n\n");
        b.append("The wrong answers that name another needle's code (traced with --needle-recall): the mean share of each code's tokens their"
                + " selections kept, the asked code's, the named code's and the other needles'.\n\n");
        b.append("| task | policy | length | answers | asked code kept | named code kept | other needles kept |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|\n").append(rows);
    }

    private static double meanOf(Map<?, ?> byCode, List<String> codes) {
        double sum = 0;
        int n = 0;
        for (String c : codes) {
            if (byCode.get(c) instanceof Number v) {
                sum += v.doubleValue();
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** The mean share of the asked codes' tokens kept, per layer, for the right and the wrong answers apart. */
    private void appendRecallByLayer(StringBuilder b, List<Integer> lengths) {
        int layers = 0;
        for (EvalHarness.Outcome o : outcomes) {
            if (o.stats().get(NeedleRecall.BY_LAYER) instanceof List<?> l) {
                layers = Math.max(layers, l.size());
            }
        }
        if (layers == 0) {
            return;
        }
        b.append("\nThe same share per layer (kept, mean over the answers):\n\n| task | policy | length | answers |");
        for (int l = 0; l < layers; l++) {
            b.append(" layer ").append(l).append(" |");
        }
        b.append("\n|---|---|---:|---|");
        b.append("---:|".repeat(layers)).append('\n');
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                for (int len : lengths) {
                    for (boolean correct : new boolean[] {true, false}) {
                        double[] sum = new double[layers];
                        int[] count = new int[layers];
                        int answers = 0;
                        for (EvalHarness.Outcome o : outcomes) {
                            if (o.task().equals(task) && o.policy().equals(p.name()) && o.length() == len
                                    && o.correct() == correct && o.stats().get(NeedleRecall.BY_LAYER) instanceof List<?> l) {
                                answers++;
                                for (int i = 0; i < l.size(); i++) {
                                    if (l.get(i) instanceof Number v && !Double.isNaN(v.doubleValue())) {
                                        sum[i] += v.doubleValue();
                                        count[i]++;
                                    }
                                }
                            }
                        }
                        if (answers == 0) {
                            continue;
                        }
                        b.append("| ").append(task).append(" | ").append(p.name()).append(" | ").append(lengthLabel(len))
                                .append(" | ").append(answers).append(correct ? " right" : " wrong").append(" |");
                        for (int i = 0; i < layers; i++) {
                            b.append(' ').append(count[i] == 0 ? "–" : String.format(Locale.ROOT, "%.3f", sum[i] / count[i]))
                                    .append(" |");
                        }
                        b.append('\n');
                    }
                }
            }
        }
    }

    /** {answers traced, mean recall, mean complete share} of the answers of one verdict. */
    private double[] recall(String task, String policy, int length, boolean correct) {
        double[] sum = new double[3];
        for (EvalHarness.Outcome o : outcomes) {
            if (o.task().equals(task) && o.policy().equals(policy) && o.length() == length && o.correct() == correct
                    && o.stats().get(NeedleRecall.MEAN) instanceof Number mean
                    && o.stats().get(NeedleRecall.COMPLETE) instanceof Number complete) {
                sum[0]++;
                sum[1] += mean.doubleValue();
                sum[2] += complete.doubleValue();
            }
        }
        return sum;
    }

    private static String recallCell(double[] sum, int i) {
        return sum[0] == 0 ? "–" : String.format(Locale.ROOT, "%.3f", sum[i] / sum[0]);
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
