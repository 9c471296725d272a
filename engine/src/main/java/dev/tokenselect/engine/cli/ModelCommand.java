package dev.tokenselect.engine.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A subcommand that works on a model directory. */
abstract class ModelCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    CliOutput output() {
        return CliOutput.of(spec.commandLine());
    }

    CommandLine commandLine() {
        return spec.commandLine();
    }
}
