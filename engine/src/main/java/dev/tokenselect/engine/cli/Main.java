package dev.tokenselect.engine.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParseResult;

/** {@code tokenselect}: the engine from the command line. */
@Command(name = "tokenselect", mixinStandardHelpOptions = true, version = "tokenselect 0.1.0",
        description = "Long-context inference with TokenSelect: tokenize, render chat templates, generate, inspect logits.",
        subcommands = {DownloadCommand.class, TokenizeCommand.class, ChatTemplateCommand.class, GenerateCommand.class, LogitsCommand.class, EvalCommand.class, CorpusCommand.class,
                SyntheticModelCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI with UTF-8 output whatever the platform's locale, so JSON text survives intact. */
    public static int run(String... args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        return run(out, err, args);
    }

    public static int run(PrintStream out, PrintStream err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionStrategy(Main::execute);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            CliOutput.of(commandLine).error(e);
            return 1;
        });
        return cli.execute(args);
    }

    /** Resolves a model command's --model repo id (downloading it) before the command runs. */
    private static int execute(ParseResult parseResult) {
        ParseResult leaf = parseResult;
        boolean help = leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested();
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
            help |= leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested();
        }
        if (!help && leaf.commandSpec().userObject() instanceof ModelCommand command) {
            try {
                command.common.resolveModel();
            } catch (RuntimeException e) {
                throw new CommandLine.ExecutionException(leaf.commandSpec().commandLine(), e.getMessage(), e);
            }
        }
        return new CommandLine.RunLast().execute(parseResult);
    }
}
