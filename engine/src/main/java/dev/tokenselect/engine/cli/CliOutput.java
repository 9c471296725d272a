package dev.tokenselect.engine.cli;

import java.io.PrintWriter;
import java.util.Map;

import picocli.CommandLine;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Prints results: one JSON object on stdout with {@code --json}, readable text otherwise. */
final class CliOutput {

    private static final JsonMapper JSON = JsonMapper.builder().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build();

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;

    private CliOutput(PrintWriter out, PrintWriter err, boolean json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    static CliOutput of(CommandLine commandLine) {
        Object cmd = commandLine.getCommand();
        boolean json = cmd instanceof ModelCommand mc && mc.common != null && mc.common.json
                || cmd instanceof DownloadCommand dc && dc.json;
        return new CliOutput(commandLine.getOut(), commandLine.getErr(), json);
    }

    boolean json() {
        return json;
    }

    void object(Map<String, ?> value) {
        out.println(JSON.writeValueAsString(value));
        out.flush();
    }

    void text(String s) {
        out.print(s);
        out.flush();
    }

    void info(String s) {
        err.println(s);
        err.flush();
    }

    /** An error as one line a person can act on; with --json also as {"error": ...} on stdout. */
    void error(Exception e) {
        String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        if (json) {
            object(Map.of("error", message));
        }
        err.println("error: " + message);
        if (System.getenv("TOKENSELECT_DEBUG") != null) {
            e.printStackTrace(err);
        }
        err.flush();
    }

    static String toJson(Object value) {
        return JSON.writeValueAsString(value);
    }

    static JsonMapper mapper() {
        return JSON;
    }
}
