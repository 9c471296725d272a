package dev.tokenselect.sample.openai;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.http.HttpStatus;

/**
 * A refusal in OpenAI's error format, {@code {"error": {"message", "type", "param", "code"}}}, which OpenAI's client
 * libraries read into their exceptions.
 */
public class OpenAiError extends RuntimeException {

    private final HttpStatus status;
    private final String type;
    private final String param;
    private final String code;

    public OpenAiError(HttpStatus status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public static OpenAiError invalid(String param, String message) {
        return new OpenAiError(HttpStatus.BAD_REQUEST, "invalid_request_error", param, null, message);
    }

    public HttpStatus status() {
        return status;
    }

    public Map<String, Object> body() {
        return body(getMessage(), type, param, code);
    }

    public static Map<String, Object> body(String message, String type, String param, String code) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Map.of("error", error);
    }
}
