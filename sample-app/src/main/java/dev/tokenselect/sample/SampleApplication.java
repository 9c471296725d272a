package dev.tokenselect.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * Document Q&amp;A over whole documents, on the TokenSelect starter: uploaded files become named corpora, resident
 * in the KV cache, and questions continue them (a chat page, a corpora page and an OpenAI-compatible API).
 */
@SpringBootApplication
@EnableConfigurationProperties(SampleProperties.class)
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
