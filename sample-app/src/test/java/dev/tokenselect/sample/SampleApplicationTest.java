package dev.tokenselect.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SampleApplicationTest {

    @LocalServerPort
    int port;

    @Test
    void servesThePageAndTheEngineInfo() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        var page = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("TokenSelect document Q&amp;A");
        var info = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/info")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(info.body()).contains("Qwen3ForCausalLM").contains("LlamaForCausalLM");
    }
}
