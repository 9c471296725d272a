package dev.tokenselect.spring.ai.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.document.Document;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.tokenselect.engine.prefix.CorpusProgress;
import dev.tokenselect.engine.prefix.CorpusStatus;
import dev.tokenselect.spring.autoconfigure.TokenSelectCorpusAutoConfiguration;
import dev.tokenselect.spring.autoconfigure.TokenSelectEngineAutoConfiguration;
import dev.tokenselect.spring.autoconfigure.TokenSelectPersistenceAutoConfiguration;

/** A registration through the service reports its prefill, and the corpus is listed with its size and residence. */
class CorpusServiceProgressTest {

    static final String MODEL = Path.of("..", "models", "needle-14m").toAbsolutePath().normalize().toString();

    @TempDir
    Path cache;

    @Test
    void registrationReportsPrefillChunksAndTheCorpusIsListedInHostMemoryThenGone() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(TokenSelectPersistenceAutoConfiguration.class,
                        TokenSelectEngineAutoConfiguration.class, TokenSelectCorpusAutoConfiguration.class))
                .withPropertyValues("spring.ai.tokenselect.model=" + MODEL, "spring.ai.tokenselect.backend=cpu",
                        "spring.ai.tokenselect.threads=2", "spring.ai.tokenselect.kv-capacity-tokens=8192",
                        "spring.ai.tokenselect.prefill-chunk=128", "spring.ai.tokenselect.cache-dir=" + cache)
                .run(ctx -> {
                    CorpusService corpora = ctx.getBean(CorpusService.class);
                    String text = "The grass is green. The sky is blue. ".repeat(60) + "The special code for Ada is 318274.";
                    List<CorpusProgress> events = new CopyOnWriteArrayList<>();
                    var info = corpora.register("codes", List.of(new Document(text, Map.of("title", "codes"))),
                            events::add);
                    assertThat(info.tokens()).isGreaterThan(256);
                    List<Integer> prefilled = events.stream()
                            .filter(p -> p.stage() == CorpusProgress.Stage.PREFILLING).map(CorpusProgress::doneTokens)
                            .toList();
                    assertThat(prefilled).hasSizeGreaterThanOrEqualTo(3).isSorted().startsWith(0);
                    assertThat(prefilled.get(prefilled.size() - 1)).isEqualTo(info.tokens());
                    assertThat(events.get(events.size() - 1))
                            .isEqualTo(new CorpusProgress("codes", CorpusProgress.Stage.READY, info.tokens(), info.tokens()));

                    CorpusStatus status = corpora.statuses().get(0);
                    assertThat(status.name()).isEqualTo("codes");
                    assertThat(status.tokens()).isEqualTo(info.tokens());
                    assertThat(status.residence()).isEqualTo(CorpusStatus.Residence.HOST);
                    // needle-14m: 8 layers, 2 KV heads of 64, fp32 K and V: 8 KiB per token, whole 32-token blocks
                    long blocks = (info.tokens() + 31) / 32;
                    assertThat(status.kvBytes()).isEqualTo(blocks * 32 * 2 * 8 * 2 * 64 * 4);
                    assertThat(status.persistedBytes()).isPositive();

                    assertThat(corpora.unregister("codes")).isTrue();
                    assertThat(corpora.statuses()).isEmpty();
                });
    }
}
