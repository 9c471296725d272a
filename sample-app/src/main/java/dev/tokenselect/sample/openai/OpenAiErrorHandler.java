package dev.tokenselect.sample.openai;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.tokenselect.sample.web.ApiProblem;

/** Errors of {@code /v1} in OpenAI's format, which OpenAI's client libraries turn into their own exceptions. */
@RestControllerAdvice(assignableTypes = OpenAiController.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class OpenAiErrorHandler {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAiErrorHandler.class);

    @ExceptionHandler(OpenAiError.class)
    ResponseEntity<Map<String, Object>> openAi(OpenAiError e) {
        return ResponseEntity.status(e.status()).body(e.body());
    }

    /** A missing or unready corpus, named by the model or the corpus field. */
    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<Map<String, Object>> problem(ApiProblem e) {
        String code = e.status() == HttpStatus.NOT_FOUND ? "model_not_found"
                : e.status() == HttpStatus.CONFLICT ? "corpus_not_ready" : null;
        return ResponseEntity.status(e.status())
                .body(OpenAiError.body(e.getMessage(), "invalid_request_error", "model", code));
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<Map<String, Object>> unreadable(HttpMessageNotReadableException e) {
        return ResponseEntity.badRequest().body(OpenAiError.body("The request body is not a chat completion request "
                + "in JSON: " + e.getMostSpecificCause().getMessage(), "invalid_request_error", null, null));
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    ResponseEntity<Map<String, Object>> mediaType(HttpMediaTypeNotSupportedException e) {
        return ResponseEntity.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE).body(OpenAiError.body("Send the request as "
                + "JSON (Content-Type: application/json).", "invalid_request_error", null, null));
    }

    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<Map<String, Object>> badArgument(IllegalArgumentException e) {
        return ResponseEntity.badRequest().body(OpenAiError.body(e.getMessage(), "invalid_request_error", null, null));
    }

    @ExceptionHandler(RuntimeException.class)
    ResponseEntity<Map<String, Object>> unexpected(RuntimeException e) {
        LOG.error("completion failed", e);
        return ResponseEntity.internalServerError().body(OpenAiError.body("The server could not complete the request: "
                + e.getMessage(), "server_error", null, null));
    }
}
