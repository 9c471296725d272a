package dev.tokenselect.sample.corpus;

import org.springframework.http.HttpStatus;

import dev.tokenselect.sample.web.ApiProblem;

/** A question or request names a corpus that does not exist, or that cannot be asked yet. */
public class CorpusUnavailable extends ApiProblem {

    public CorpusUnavailable(HttpStatus status, String message) {
        super(status, status == HttpStatus.NOT_FOUND ? "No such corpus" : "Corpus not ready", message);
    }
}
