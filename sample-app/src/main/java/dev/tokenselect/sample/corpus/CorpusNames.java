package dev.tokenselect.sample.corpus;

import java.util.regex.Pattern;

import org.springframework.http.HttpStatus;

import dev.tokenselect.sample.web.ApiProblem;

/** Corpus names: short, lowercase, safe in a URL path and in an OpenAI model id ({@code corpus:NAME}). */
public final class CorpusNames {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private CorpusNames() {
    }

    public static String check(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            String shown = name == null ? "" : name.replaceAll("\\p{Cntrl}", "?");
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "Bad corpus name", "Corpus name '" + shown + "' is not "
                    + "allowed: use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit "
                    + "(for example handbook or release-notes).");
        }
        return name;
    }
}
