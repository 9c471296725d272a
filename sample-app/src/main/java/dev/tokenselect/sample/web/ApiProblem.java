package dev.tokenselect.sample.web;

import org.springframework.http.HttpStatus;

/**
 * A request the app refuses, answered as problem details ({@code application/problem+json}): the status, a short
 * title, and a message in plain words that names the problem and what to do.
 */
public class ApiProblem extends RuntimeException {

    private final HttpStatus status;
    private final String title;

    public ApiProblem(HttpStatus status, String title, String message) {
        super(message);
        this.status = status;
        this.title = title;
    }

    public HttpStatus status() {
        return status;
    }

    public String title() {
        return title;
    }
}
