package dev.tokenselect.engine.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.eval.AccuracyPlot;
import dev.tokenselect.engine.eval.EvalHarness;
import dev.tokenselect.engine.eval.EvalPolicy;
import dev.tokenselect.engine.eval.EvalReport;
import dev.tokenselect.engine.eval.Score;
import dev.tokenselect.engine.eval.OutcomeLog;
import dev.tokenselect.engine.eval.EvalTasks;
import dev.tokenselect.engine.select.SelectionParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", description = "Accuracy of attention policies on synthetic long-context tasks "
        + "(needles, variable tracking, common words, key-value retrieval) at several context lengths.")
final class EvalCommand extends ModelCommand {

    @Mixin
    BackendOptions backend;

    @Option(names = "--tasks", split = ",", paramLabel = "TASK",
            description = "Tasks (default all): niah_single_noise, niah_single_prose, niah_multikey, niah_multivalue, "
                    + "niah_multiquery, vt, cwe, kv")
    List<String> tasks;

    @Option(names = "--lengths", split = ",", defaultValue = "4096,8192,16384,32768,65536", paramLabel = "N",
            description = "Prompt lengths in tokens (default: ${DEFAULT-VALUE})")
    List<Integer> lengths;

    @Option(names = "--policies", defaultValue = EvalPolicy.DEFAULTS, paramLabel = "LIST",
            description = "full, ts-K, ts-K-nocache, streaming-K (sinks + window of ts-K's budget), page-K; "
                    + "ts-K-needles: every selection also attends the needles' sentences (a diagnostic) "
                    + "(default: ${DEFAULT-VALUE})")
    String policies;

    @Option(names = "--samples", defaultValue = "10", description = "Samples per task and length (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--seed", defaultValue = "1", description = "Evaluation seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--max-tokens", defaultValue = "48", description = "New tokens per answer at most (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--n-init", defaultValue = "" + SelectionParams.DEFAULT_N_INIT, description = "Attention sinks (default: ${DEFAULT-VALUE})")
    int nInit;

    @Option(names = "--n-local", defaultValue = "" + SelectionParams.DEFAULT_N_LOCAL, description = "Local window (default: ${DEFAULT-VALUE})")
    int nLocal;

    @Option(names = "--theta", defaultValue = "" + SelectionParams.DEFAULT_THETA,
            description = "Selection-cache threshold of ts-K (default: ${DEFAULT-VALUE})")
    double theta;

    @Option(names = "--page-size", defaultValue = "16", description = "Tokens per page of page-K (default: ${DEFAULT-VALUE})")
    int pageSize;

    @Option(names = "--out", paramLabel = "FILE", description = "Markdown file for the results (replaces the part "
            + "between the eval-results markers where the file has them)")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE", description = "PNG of accuracy against context length")
    Path plot;

    @Option(names = "--plot-score", paramLabel = "exact|ruler", defaultValue = "exact",
            description = "What --plot draws: exact match (default) or RULER's score (string_match_all, part credit"
                    + " per expected string)")
    String plotScore;

    @Option(names = "--trained-length", paramLabel = "N",
            description = "Marks the training length on the plot (default: the model's max_position_embeddings)")
    Integer trainedLength;

    @Option(names = "--outcomes", paramLabel = "FILE",
            description = "Append every answer to this file as a JSON line as soon as it is known")
    Path outcomes;

    @Option(names = "--resume", description = "With --outcomes: take the answers already in that file (an "
            + "interrupted run with the same seed) instead of generating them again, and append only the new ones")
    boolean resume;

    @Option(names = "--replay", paramLabel = "FILE", split = ",",
            description = "Build the report and plot from outcome files (JSON lines, gzip-compressed where the name ends"
                    + " in .gz, or progress logs) instead of running the model; --tasks, --lengths, --policies and --samples, where given, keep only those answers")
    List<Path> replay;

    @Option(names = "--paired", description = "With --replay: keep only the questions that every policy answered at"
            + " every length, so that each cell and each kept share counts the same questions")
    boolean paired;

    @Option(names = "--needle-recall", description = "Record with every TokenSelect answer of a needle task how much"
            + " of the asked codes' tokens the selections that made the answer kept (the CPU backend, or CUDA with"
            + " -Dtokenselect.cuda.graphSelection=false)")
    boolean needleRecall;

    @Option(names = "--quiet", description = "No progress line per answer on stderr")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        CliOutput out = output();
        Score.parse(plotScore); // a wrong value refused before any answer is computed
        if (plot != null) {
            requirePlotSupport(ModuleLayer.boot());
        }
        List<String> taskList = tasks == null || tasks.isEmpty() ? EvalTasks.TASKS : tasks;
        int chunk = backend.prefillChunk != null ? backend.prefillChunk : SelectionParams.DEFAULT_PREFILL_CHUNK;
        List<EvalPolicy> policyList = EvalPolicy.parseList(policies, nInit, nLocal, theta, chunk, pageSize);
        EvalHarness.Config config = new EvalHarness.Config(taskList, lengths, policyList, samples, seed, maxTokens);
        EngineOptions options = backend.engineOptions();
        long needed = config.maxLength() + maxTokens + 2L * options.blockSize();
        if (options.kvCapacityTokens() < needed) {
            options = new EngineOptions(options.backend(), options.device(), options.threads(), needed, options.blockSize());
        }
        if (replay != null) {
            replayReport(out, taskList, policyList, chunk);
            return 0;
        }
        if (paired) {
            throw new IllegalArgumentException("--paired keeps the questions of a replay that every policy answered:"
                    + " give it with --replay FILE");
        }
        if (outcomes != null && OutcomeLog.compressed(outcomes)) {
            throw new IllegalArgumentException("--outcomes " + outcomes + ": answers are appended as plain JSON lines,"
                    + " which a .gz file cannot take; name a plain file (gunzip a compressed one first to resume"
                    + " from it; --replay reads .gz files as they are)");
        }
        List<EvalHarness.Outcome> earlier = List.of();
        if (resume) {
            if (outcomes == null) {
                throw new IllegalArgumentException("--resume needs --outcomes FILE: the file of the run to go on with");
            }
            if (java.nio.file.Files.exists(outcomes)) {
                earlier = OutcomeLog.read(outcomes);
                out.info("resuming: " + earlier.size() + " answers already in " + outcomes);
            }
        }
        try (Engine engine = Engine.open(common.model, options)) {
            List<EvalHarness.Outcome> results = EvalHarness.run(engine, config, quiet ? s -> { } : out::info,
                    outcomes == null ? o -> { } : o -> OutcomeLog.append(outcomes, o), earlier, needleRecall);
            int trained = trainedLength != null ? trainedLength : engine.model().config().maxPositionEmbeddings();
            report(out, new EvalReport(config, results, common.model.toString(), engine.backend().name()), trained);
        }
        return 0;
    }

    /**
     * The report and plot of outcome files. Each of --tasks, --lengths, --policies and --samples that is
     * given keeps only those answers; one that is not takes what the files hold, so a file replays as it
     * was run (its tasks, lengths, policies and samples, whatever the defaults are).
     */
    private void replayReport(CliOutput out, List<String> taskList, List<EvalPolicy> policyList, int chunk)
            throws java.io.IOException {
        List<EvalHarness.Outcome> all = new java.util.ArrayList<>();
        for (Path file : replay) {
            all.addAll(OutcomeLog.read(file));
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no answers in " + replay + ": --replay takes the files that --outcomes"
                    + " wrote (JSON lines) or the harness's progress logs");
        }
        List<String> tasksAsked = given("--tasks") ? taskList : null;
        List<Integer> lengthsAsked = given("--lengths") ? lengths : null;
        List<EvalPolicy> policiesAsked = given("--policies") ? policyList : null;
        Integer samplesAsked = given("--samples") ? samples : null;
        List<EvalHarness.Outcome> once = oncePerQuestion(all);
        if (once.size() < all.size()) {
            out.info("replay: " + (all.size() - once.size()) + " answers repeat a question already read (a resumed run's"
                    + " file holds the answers it resumed from); each question counts once, with its first answer");
        }
        all = once;
        List<EvalHarness.Outcome> filtered = replayed(all, tasksAsked, lengthsAsked,
                policiesAsked == null ? null : policiesAsked.stream().map(EvalPolicy::name).toList(), samplesAsked);
        List<EvalHarness.Outcome> kept = paired ? pairedQuestions(filtered) : filtered;
        if (paired) {
            out.info("replay: --paired keeps " + kept.size() + " of " + filtered.size() + " answers, the questions"
                    + " every policy answered at every length");
        }
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("none of the " + all.size() + " answers in " + replay + " is in the"
                    + " tasks, lengths, policies and samples asked for");
        }
        if (kept.size() < all.size()) {
            out.info("replay: " + kept.size() + " of " + all.size() + " answers are in the tasks, lengths, policies"
                    + " and samples asked for");
        }
        // what was not asked for is what the kept answers hold
        List<String> replayTasks = tasksAsked != null ? tasksAsked
                : EvalTasks.TASKS.stream().filter(t -> kept.stream().anyMatch(o -> o.task().equals(t))).toList();
        List<Integer> replayLengths = lengthsAsked != null ? lengthsAsked
                : kept.stream().map(EvalHarness.Outcome::length).distinct().sorted().toList();
        List<EvalPolicy> replayPolicies = policiesAsked != null ? policiesAsked
                : EvalPolicy.parseList(String.join(",", kept.stream().map(EvalHarness.Outcome::policy).distinct().toList()),
                        nInit, nLocal, theta, chunk, pageSize);
        int replaySamples = samplesAsked != null ? samplesAsked
                : 1 + kept.stream().mapToInt(EvalHarness.Outcome::sample).max().orElse(0);
        EvalHarness.Config config = new EvalHarness.Config(replayTasks, replayLengths, replayPolicies, replaySamples,
                seed, maxTokens);
        int trained = trainedLength != null ? trainedLength
                : dev.tokenselect.engine.model.ModelConfig.read(common.model).maxPositionEmbeddings();
        report(out, new EvalReport(config, kept, common.model.toString(), backend.backend + " (replayed)"), trained);
    }

    private boolean given(String option) {
        return commandLine().getParseResult().hasMatchedOption(option);
    }

    /**
     * One answer per question (task, length, policy, sample), the first one read: a run resumed from a
     * file writes that file's answers again, and replaying both must not count a question twice.
     */
    static List<EvalHarness.Outcome> oncePerQuestion(List<EvalHarness.Outcome> all) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        return all.stream()
                .filter(o -> seen.add(o.task() + '\u0000' + o.length() + '\u0000' + o.policy() + '\u0000' + o.sample()))
                .toList();
    }

    /**
     * The answers of a replay that fall in the tasks, lengths, policies and first samples asked for; a
     * null filter keeps everything (an option not given on the command line: a replay reports the whole
     * file unless told otherwise, so files of more samples or other policies replay as they were run).
     */
    static List<EvalHarness.Outcome> replayed(List<EvalHarness.Outcome> all, List<String> tasks, List<Integer> lengths,
                                              List<String> policies, Integer samples) {
        return all.stream()
                .filter(o -> tasks == null || tasks.contains(o.task()))
                .filter(o -> lengths == null || lengths.contains(o.length()))
                .filter(o -> policies == null || policies.contains(o.policy()))
                .filter(o -> samples == null || o.sample() < samples)
                .toList();
    }

    /**
     * The answers to the questions (task and sample seed) that every policy among {@code answers} answered
     * at every length among them: a comparison of policies, or of lengths, on the same questions.
     */
    static List<EvalHarness.Outcome> pairedQuestions(List<EvalHarness.Outcome> answers) {
        java.util.Set<String> cells = new java.util.HashSet<>();
        for (EvalHarness.Outcome o : answers) {
            cells.add(o.policy() + '\u0000' + o.length());
        }
        java.util.Map<String, java.util.Set<String>> byQuestion = new java.util.HashMap<>();
        for (EvalHarness.Outcome o : answers) {
            byQuestion.computeIfAbsent(o.task() + '\u0000' + o.seed(), q -> new java.util.HashSet<>())
                    .add(o.policy() + '\u0000' + o.length());
        }
        return answers.stream().filter(o -> byQuestion.get(o.task() + '\u0000' + o.seed()).size() == cells.size())
                .toList();
    }

    /** Refuses --plot before any answer is computed when the runtime cannot draw a PNG. */
    static void requirePlotSupport(ModuleLayer layer) {
        if (layer.findModule("java.desktop").isEmpty()) {
            throw new IllegalArgumentException("--plot needs the java.desktop module, which this Java runtime lacks"
                    + " (a jlink image without it): leave --plot out, keep --outcomes FILE, and draw the plot"
                    + " later with --replay FILE --plot PNG on a full JDK");
        }
    }

    private void report(CliOutput out, EvalReport report, int trained) throws java.io.IOException {
        if (this.out != null) {
            report.write(this.out);
            out.info("wrote " + this.out);
        }
        if (plot != null) {
            Score score = Score.parse(plotScore);
            AccuracyPlot.write(plot, score.title() + " vs context length: " + common.model.getFileName(), score,
                    report.summary(score), trained);
            out.info("wrote " + plot);
        }
        if (out.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("summary", report.summary());
            json.put("ruler_summary", report.summary(Score.RULER));
            json.put("outcomes", report.rows());
            out.object(json);
        } else {
            out.text(report.markdown());
        }
    }
}
