package dev.tokenselect.sample.openai;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.tokenselect.sample.SampleProperties;
import tools.jackson.databind.json.JsonMapper;

/**
 * With {@code sample.api-key} set, {@code /v1} answers only requests that send {@code Authorization: Bearer KEY}; the
 * others get 401 with OpenAI's error JSON. Without it, {@code /v1} is open (the app listens on this machine's
 * network: set a key before exposing it).
 */
class ApiKeyFilter extends OncePerRequestFilter {

    private final byte[] key;
    private final JsonMapper json;

    ApiKeyFilter(String key, JsonMapper json) {
        this.key = key.getBytes(StandardCharsets.UTF_8);
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            reject(response, "You didn't provide an API key. You need to provide your API key in an Authorization "
                    + "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY); the key is the server's "
                    + "sample.api-key.", null);
            return;
        }
        byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, key)) { // constant time: the comparison does not tell how much matched
            reject(response, "Incorrect API key provided. Send the server's sample.api-key as "
                    + "Authorization: Bearer YOUR_KEY.", "invalid_api_key");
            return;
        }
        chain.doFilter(request, response);
    }

    private void reject(HttpServletResponse response, String message, String code) throws IOException {
        response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setCharacterEncoding(StandardCharsets.UTF_8.name());
        response.getWriter().write(json.writeValueAsString(OpenAiError.body(message, "invalid_request_error", null, code)));
    }

    /** Registers the filter for /v1 when a key is configured. */
    @Configuration(proxyBeanMethods = false)
    static class Registration {

        @Bean
        FilterRegistrationBean<ApiKeyFilter> apiKeyFilter(SampleProperties properties, JsonMapper json) {
            String key = properties.getApiKey();
            FilterRegistrationBean<ApiKeyFilter> bean = new FilterRegistrationBean<>(
                    new ApiKeyFilter(key == null ? "" : key, json));
            bean.addUrlPatterns("/v1/*");
            bean.setEnabled(key != null && !key.isBlank());
            return bean;
        }
    }
}
