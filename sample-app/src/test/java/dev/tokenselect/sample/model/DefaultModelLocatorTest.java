package dev.tokenselect.sample.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.mock.env.MockEnvironment;

/** The repository's model is found from wherever inside the repository the app starts; a set model is left alone. */
class DefaultModelLocatorTest {

    @Test
    void theRepositorysModelIsFoundFromTheModuleDirectoryAndBelow() {
        // the tests run in sample-app/, as spring-boot:run does
        Path found = DefaultModelLocator.find(Path.of("")).orElseThrow();
        assertThat(found.resolve("config.json")).isRegularFile();
        assertThat(found.getFileName().toString()).isEqualTo("needle-14m");
        assertThat(DefaultModelLocator.find(Path.of("src", "main", "java"))).hasValue(found);
    }

    @Test
    void elsewhereNothingIsFound(@TempDir Path dir) throws Exception {
        assertThat(DefaultModelLocator.find(dir)).isEmpty();
        Files.createDirectories(dir.resolve("models/needle-14m")); // a directory without config.json is no model
        assertThat(DefaultModelLocator.find(dir.resolve("models"))).isEmpty();
    }

    @Test
    void anUnsetModelDefaultsToTheFoundOneAndASetOneIsKept() {
        MockEnvironment unset = new MockEnvironment().withProperty(DefaultModelLocator.DEFAULT_MODEL_PROPERTY, "");
        new DefaultModelLocator().postProcessEnvironment(unset, null);
        assertThat(Path.of(unset.getProperty(DefaultModelLocator.MODEL_PROPERTY))).endsWith(Path.of("models", "needle-14m"));

        MockEnvironment set = new MockEnvironment().withProperty(DefaultModelLocator.MODEL_PROPERTY,
                "Qwen/Qwen2.5-0.5B-Instruct");
        new DefaultModelLocator().postProcessEnvironment(set, null);
        assertThat(set.getProperty(DefaultModelLocator.MODEL_PROPERTY)).isEqualTo("Qwen/Qwen2.5-0.5B-Instruct");
    }

    @Test
    void withoutAModelAndOutsideTheRepositoryStartingFailsWithWhatToSet(@TempDir Path dir) {
        String cwd = System.getProperty("user.dir");
        System.setProperty("user.dir", dir.toString());
        try {
            assertThatThrownBy(() -> new DefaultModelLocator().postProcessEnvironment(new MockEnvironment()
                    .withProperty(DefaultModelLocator.DEFAULT_MODEL_PROPERTY, ""), null))
                    .hasMessageContaining("set spring.ai.tokenselect.model")
                    .hasMessageContaining("Qwen/Qwen2.5-0.5B-Instruct");
        } finally {
            System.setProperty("user.dir", cwd);
        }
    }

    @Test
    void theServedNameIsTheDirectorysNameOrTheRepoId() {
        assertThat(ServedModel.idOf(DefaultModelLocator.find(Path.of("")).orElseThrow().toString())).isEqualTo("needle-14m");
        assertThat(ServedModel.idOf("Qwen/Qwen2.5-0.5B-Instruct")).isEqualTo("Qwen/Qwen2.5-0.5B-Instruct");
    }

    /** The default repo is used when the Hub answers, the bundled model when it does not or offline mode is on. */
    @Test
    void theDefaultRepoIsUsedWhenTheHubAnswersAndTheBundledModelOtherwise(@TempDir Path cache) throws Exception {
        String repo = "Qwen/Qwen2.5-0.5B-Instruct";
        com.sun.net.httpserver.HttpServer hub = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        java.util.List<String> asked = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        hub.createContext("/", exchange -> {
            asked.add(exchange.getRequestURI().getPath());
            byte[] body = "{\"sha\":\"abc\",\"siblings\":[]}".getBytes();
            exchange.sendResponseHeaders(exchange.getRequestURI().getPath().equals("/api/models/" + repo + "/revision/main")
                    ? 200 : 404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        hub.start();
        try {
            String endpoint = "http://127.0.0.1:" + hub.getAddress().getPort();
            dev.tokenselect.engine.hub.HubClient online = dev.tokenselect.engine.hub.HubClient.builder()
                    .endpoint(endpoint).cacheDir(cache).build();
            assertThat(DefaultModelLocator.choose(online, repo, Path.of(""))).isEqualTo(repo);
            assertThat(asked).contains("/api/models/" + repo + "/revision/main");

            dev.tokenselect.engine.hub.HubClient offline = dev.tokenselect.engine.hub.HubClient.builder()
                    .endpoint(endpoint).cacheDir(cache).offline(true).build();
            assertThat(Path.of(DefaultModelLocator.choose(offline, repo, Path.of(""))))
                    .endsWith(Path.of("models", "needle-14m"));
            assertThat(Path.of(DefaultModelLocator.choose(online, "", Path.of(""))))
                    .endsWith(Path.of("models", "needle-14m"));
        } finally {
            hub.stop(0);
        }
        // nobody listens there: the bundled model, within the quick look's timeout
        dev.tokenselect.engine.hub.HubClient unreachable = dev.tokenselect.engine.hub.HubClient.builder()
                .endpoint("http://127.0.0.1:9").cacheDir(cache).build();
        assertThat(Path.of(DefaultModelLocator.choose(unreachable, repo, Path.of(""))))
                .endsWith(Path.of("models", "needle-14m"));
    }
}
