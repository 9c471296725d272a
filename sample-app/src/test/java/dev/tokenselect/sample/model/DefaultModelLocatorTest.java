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
        MockEnvironment unset = new MockEnvironment();
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
            assertThatThrownBy(() -> new DefaultModelLocator().postProcessEnvironment(new MockEnvironment(), null))
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
}
