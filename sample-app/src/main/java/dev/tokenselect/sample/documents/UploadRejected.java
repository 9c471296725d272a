package dev.tokenselect.sample.documents;

import org.springframework.http.HttpStatus;

import dev.tokenselect.sample.web.ApiProblem;

/** An upload the app will not take: the message names the file, the problem and what to do. */
public class UploadRejected extends ApiProblem {

    public UploadRejected(HttpStatus status, String title, String message) {
        super(status, title, message);
    }
}
