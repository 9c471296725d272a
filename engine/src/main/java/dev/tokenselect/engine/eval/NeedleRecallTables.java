package dev.tokenselect.engine.eval;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The evaluation report's tables of the answers traced with {@link NeedleRecall}: the asked codes kept
 * by the answer-making selections (right and wrong answers apart, then per layer), and, for the wrong
 * answers that name another needle's code, the asked code kept against the named one.
 */
final class NeedleRecallTables {

    private final EvalHarness.Config config;
    private final List<EvalHarness.Outcome> outcomes;

    NeedleRecallTables(EvalHarness.Config config, List<EvalHarness.Outcome> outcomes) {
        this.config = config;
        this.outcomes = outcomes;
    }

    /** Appends the tables where any answer was traced; nothing otherwise. */
    void append(StringBuilder b, List<Integer> lengths) {
        appendKept(b, lengths);
        appendNamed(b, lengths);
    }

    /** The answers of one task, policy, length and verdict. */
    private List<EvalHarness.Outcome> answers(String task, String policy, int length, boolean correct) {
        return outcomes.stream()
                .filter(o -> o.task().equals(task) && o.policy().equals(policy) && o.length() == length
                        && o.correct() == correct)
                .toList();
    }

    /** Those of them traced with their asked codes kept. */
    private List<EvalHarness.Outcome> traced(String task, String policy, int length, boolean correct) {
        return answers(task, policy, length, correct).stream()
                .filter(o -> o.stats().get(NeedleRecall.MEAN) instanceof Number)
                .toList();
    }

    /**
     * The mean share of the asked codes' tokens the answer-making selections kept, and the share of those
     * selections that kept every one, for the right and the wrong answers apart; then the same per layer.
     */
    private void appendKept(StringBuilder b, List<Integer> lengths) {
        StringBuilder rows = new StringBuilder();
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                for (int len : lengths) {
                    List<EvalHarness.Outcome> right = traced(task, p.name(), len, true);
                    List<EvalHarness.Outcome> wrong = traced(task, p.name(), len, false);
                    if (right.isEmpty() && wrong.isEmpty()) {
                        continue;
                    }
                    rows.append("| ").append(task).append(" | ").append(p.name()).append(" | ")
                            .append(EvalReport.lengthLabel(len)).append(" | ").append(right.size()).append(" | ")
                            .append(mean(right, NeedleRecall.MEAN)).append(" | ").append(mean(right, NeedleRecall.COMPLETE))
                            .append(" | ").append(wrong.size()).append(" | ").append(mean(wrong, NeedleRecall.MEAN))
                            .append(" | ").append(mean(wrong, NeedleRecall.COMPLETE)).append(" |\n");
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
        appendKeptByLayer(b, lengths);
    }

    private static String mean(List<EvalHarness.Outcome> answers, String stat) {
        if (answers.isEmpty()) {
            return "–";
        }
        double sum = 0;
        for (EvalHarness.Outcome o : answers) {
            sum += o.stats().get(stat) instanceof Number v ? v.doubleValue() : 0;
        }
        return String.format(Locale.ROOT, "%.3f", sum / answers.size());
    }

    private void appendKeptByLayer(StringBuilder b, List<Integer> lengths) {
        int layers = 0;
        for (EvalHarness.Outcome o : outcomes) {
            if (o.stats().get(NeedleRecall.BY_LAYER) instanceof List<?> l) {
                layers = Math.max(layers, l.size());
            }
        }
        if (layers == 0) {
            return;
        }
        b.append("\nThe same share per layer (kept, mean over the answers; the row right − wrong: the right answers' mean less"
                + " the wrong ones', in brackets the 2.5th and 97.5th percentiles of " + KeptShare.RESAMPLES
                + " bootstrap resamplings of each group):\n\n| task | policy | length | answers |");
        for (int l = 0; l < layers; l++) {
            b.append(" layer ").append(l).append(" |");
        }
        b.append("\n|---|---|---:|---|");
        b.append("---:|".repeat(layers)).append('\n');
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                for (int len : lengths) {
                    List<List<EvalHarness.Outcome>> groups = new java.util.ArrayList<>();
                    for (boolean correct : new boolean[] {true, false}) {
                        List<EvalHarness.Outcome> answers = answers(task, p.name(), len, correct).stream()
                                .filter(o -> o.stats().get(NeedleRecall.BY_LAYER) instanceof List<?>).toList();
                        groups.add(answers);
                        if (!answers.isEmpty()) {
                            b.append("| ").append(task).append(" | ").append(p.name()).append(" | ")
                                    .append(EvalReport.lengthLabel(len)).append(" | ").append(answers.size())
                                    .append(correct ? " right" : " wrong").append(" |").append(layerCells(answers, layers))
                                    .append('\n');
                        }
                    }
                    if (!groups.get(0).isEmpty() && !groups.get(1).isEmpty()) {
                        b.append("| ").append(task).append(" | ").append(p.name()).append(" | ")
                                .append(EvalReport.lengthLabel(len)).append(" | right − wrong |");
                        for (int l = 0; l < layers; l++) {
                            b.append(' ').append(MeanDifference.of(layerValues(groups.get(0), l),
                                    layerValues(groups.get(1), l)).cell()).append(" |");
                        }
                        b.append('\n');
                    }
                }
            }
        }
    }

    /** One layer's kept share of each answer that has it. */
    static double[] layerValues(List<EvalHarness.Outcome> answers, int layer) {
        return answers.stream()
                .map(o -> o.stats().get(NeedleRecall.BY_LAYER) instanceof List<?> l && layer < l.size()
                        && l.get(layer) instanceof Number v ? v.doubleValue() : Double.NaN)
                .filter(v -> !Double.isNaN(v)).mapToDouble(Double::doubleValue).toArray();
    }

    /** Each layer's mean kept share over {@code answers}, as table cells. */
    private static String layerCells(List<EvalHarness.Outcome> answers, int layers) {
        StringBuilder cells = new StringBuilder();
        for (int l = 0; l < layers; l++) {
            java.util.OptionalDouble mean = java.util.Arrays.stream(layerValues(answers, l)).average();
            cells.append(' ').append(mean.isEmpty() ? "–" : String.format(Locale.ROOT, "%.3f", mean.getAsDouble()))
                    .append(" |");
        }
        return cells.toString();
    }

    /**
     * The wrong answers that name another needle's code: how much of the asked code their selections
     * kept against the named one and the needles neither asked nor named. If the named code was kept
     * more than the asked one, the selection steered the model to the distractor.
     */
    private void appendNamed(StringBuilder b, List<Integer> lengths) {
        StringBuilder rows = new StringBuilder();
        for (String task : config.tasks()) {
            for (EvalPolicy p : config.policies()) {
                for (int len : lengths) {
                    appendNamedRow(rows, task, p.name(), len);
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

    private void appendNamedRow(StringBuilder rows, String task, String policy, int len) {
        int answers = 0;
        double asked = 0;
        double named = 0;
        double neither = 0;
        int neitherCount = 0;
        for (EvalHarness.Outcome o : answers(task, policy, len, false)) {
            if (!(o.stats().get(NeedleRecall.BY_CODE) instanceof Map<?, ?> byCode)) {
                continue;
            }
            List<String> namedCodes = WrongCodes.codesIn(o.generated()).stream()
                    .filter(c -> byCode.containsKey(c) && !o.expected().contains(c)).distinct().toList();
            if (namedCodes.isEmpty()) {
                continue;
            }
            answers++;
            asked += meanOf(byCode, o.expected());
            named += meanOf(byCode, namedCodes);
            List<String> others = byCode.keySet().stream().map(String::valueOf)
                    .filter(c -> !o.expected().contains(c) && !namedCodes.contains(c)).toList();
            if (!others.isEmpty()) {
                neither += meanOf(byCode, others);
                neitherCount++;
            }
        }
        if (answers > 0) {
            rows.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.3f | %.3f | %s |%n", task, policy,
                    EvalReport.lengthLabel(len), answers, asked / answers, named / answers,
                    neitherCount == 0 ? "–" : String.format(Locale.ROOT, "%.3f", neither / neitherCount)));
        }
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
}
