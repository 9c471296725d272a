package dev.tokenselect.sample.web;

import java.util.Locale;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import dev.tokenselect.sample.SampleProperties;

/**
 * Errors of the app's own API as problem details ({@code application/problem+json}) whose {@code detail} says what
 * went wrong and what to do; the pages show that text. (The OpenAI-compatible API answers in OpenAI's error format.)
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
public class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ProblemHandler.class);

    private final SampleProperties properties;

    public ProblemHandler(SampleProperties properties) {
        this.properties = properties;
    }

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> problem(ApiProblem e) {
        return of(e.status(), e.title(), e.getMessage());
    }

    /** The engine's refusals of a request's parameters (an option out of range, a corpus it does not know). */
    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<ProblemDetail> badArgument(IllegalArgumentException e) {
        return of(HttpStatus.BAD_REQUEST, "Bad request", e.getMessage());
    }

    @Override
    protected ResponseEntity<Object> handleMaxUploadSizeExceededException(MaxUploadSizeExceededException e,
                                                                          HttpHeaders headers, HttpStatusCode status,
                                                                          WebRequest request) {
        var upload = properties.getUpload();
        String detail = String.format(Locale.ROOT, "The upload is larger than allowed: each file may have at most "
                        + "%.1f MB (sample.upload.max-file-size) and one upload at most %d files. Split the file, or "
                        + "raise the limit.", upload.getMaxFileSize().toBytes() / 1024.0 / 1024.0, upload.getMaxFiles());
        return ResponseEntity.status(HttpStatus.CONTENT_TOO_LARGE)
                .body(problemDetail(HttpStatus.CONTENT_TOO_LARGE, "File too large", detail));
    }

    @ExceptionHandler(MultipartException.class)
    ResponseEntity<ProblemDetail> badMultipart(MultipartException e) {
        return of(HttpStatus.BAD_REQUEST, "Bad upload", "The upload is not a readable multipart/form-data request ("
                + e.getMostSpecificCause().getMessage() + "): send the files as form field 'files'.");
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e,
                                                                  HttpHeaders headers, HttpStatusCode status,
                                                                  WebRequest request) {
        return ResponseEntity.badRequest().body(problemDetail(HttpStatus.BAD_REQUEST, "Unreadable request",
                "The request body is not the JSON this endpoint takes: " + e.getMostSpecificCause().getMessage()));
    }

    @ExceptionHandler(RuntimeException.class)
    ResponseEntity<ProblemDetail> unexpected(RuntimeException e) {
        LOG.error("request failed", e);
        return of(HttpStatus.INTERNAL_SERVER_ERROR, "Server error", "The server could not complete the request: "
                + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }

    private static ResponseEntity<ProblemDetail> of(HttpStatus status, String title, String detail) {
        return ResponseEntity.status(status).body(problemDetail(status, title, detail));
    }

    private static ProblemDetail problemDetail(HttpStatus status, String title, String detail) {
        ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
        p.setTitle(title);
        return p;
    }
}
