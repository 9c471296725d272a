package dev.tokenselect.sample.web;

import jakarta.servlet.MultipartConfigElement;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tokenselect.sample.SampleProperties;

/**
 * The servlet container's multipart limits, from the app's own upload limits (they replace spring.servlet.multipart.*):
 * twice the file limit, so a file a little too large reaches the app's own check, whose message names it, while the
 * container still stops a huge one early.
 */
@Configuration(proxyBeanMethods = false)
class UploadLimits {

    /** Room for the form's other parts and headers. */
    static final long OVERHEAD = 1024 * 1024;

    @Bean
    MultipartConfigElement multipartConfigElement(SampleProperties properties) {
        long file = 2 * properties.getUpload().getMaxFileSize().toBytes();
        long request = properties.getUpload().getMaxFileSize().toBytes() * properties.getUpload().getMaxFiles() + file
                + OVERHEAD;
        return new MultipartConfigElement(null, file, request, (int) Math.min(file, 1024 * 1024));
    }
}
