package dev.tokenselect.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.document.Document;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.hub.HubClient;
import dev.tokenselect.engine.prefix.CorpusManager.CorpusInfo;
import dev.tokenselect.engine.prefix.FilePrefixStore;
import dev.tokenselect.engine.prefix.PersistentPrefixes;
import dev.tokenselect.engine.prefix.PrefixStore;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.spring.ai.chat.TokenSelectChatModel;
import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;
import dev.tokenselect.spring.ai.corpus.CorpusService;

/** Conditions, binding and the file catalog, on the trained needle model and the CPU backend. */
class TokenSelectAutoConfigurationTest {

    static final String MODEL = Path.of("..", "models", "needle-14m").toAbsolutePath().normalize().toString();

    @TempDir
    Path cache;

    static final AutoConfigurations ALL = AutoConfigurations.of(TokenSelectPersistenceAutoConfiguration.class,
            TokenSelectEngineAutoConfiguration.class, TokenSelectChatAutoConfiguration.class,
            TokenSelectCorpusAutoConfiguration.class, TokenSelectHealthAutoConfiguration.class,
            TokenSelectMetricsAutoConfiguration.class);

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(ALL).withPropertyValues(
                "spring.ai.tokenselect.model=" + MODEL, "spring.ai.tokenselect.backend=cpu",
                "spring.ai.tokenselect.threads=2", "spring.ai.tokenselect.kv-capacity-tokens=8192",
                "spring.ai.tokenselect.cache-dir=" + cache);
    }

    @Test
    void withoutAModelNothingStarts() {
        new ApplicationContextRunner().withConfiguration(ALL).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx).doesNotHaveBean(Engine.class).doesNotHaveBean(ChatModel.class)
                    .doesNotHaveBean(CorpusService.class).doesNotHaveBean(PrefixStore.class);
        });
    }

    @Test
    void anotherChatModelSelectedByPropertyLeavesOursOut() {
        runner().withPropertyValues("spring.ai.model.chat=ollama").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx).doesNotHaveBean(Engine.class).doesNotHaveBean(ChatModel.class);
        });
        runner().withPropertyValues("spring.ai.model.chat=tokenselect").run(ctx ->
                assertThat(ctx).hasSingleBean(TokenSelectChatModel.class));
    }

    @Test
    void withoutTheEngineOnTheClassPathNothingStarts() {
        runner().withClassLoader(new FilteredClassLoader(Engine.class)).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx).doesNotHaveBean(ChatModel.class).doesNotHaveBean(InferenceService.class);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnChatModel {
        @Bean
        ChatModel myChatModel() {
            return prompt -> new ChatResponse(List.of());
        }
    }

    @Test
    void backsOffWhenTheApplicationDefinesItsOwnChatModel() {
        runner().withUserConfiguration(OwnChatModel.class).run(ctx -> {
            assertThat(ctx).hasSingleBean(ChatModel.class).doesNotHaveBean(TokenSelectChatModel.class);
            assertThat(ctx.getBean(ChatModel.class)).isSameAs(ctx.getBean("myChatModel"));
            assertThat(ctx).hasSingleBean(CorpusService.class); // corpora still work for the application's own use
        });
    }

    @Test
    void bindsEngineAndChatOptionProperties() {
        runner().withPropertyValues("spring.ai.tokenselect.policy=tokenselect", "spring.ai.tokenselect.k=256",
                "spring.ai.tokenselect.n-init=16", "spring.ai.tokenselect.n-local=64", "spring.ai.tokenselect.theta=0.8",
                "spring.ai.tokenselect.prefill-chunk=128", "spring.ai.tokenselect.max-batch=3",
                "spring.ai.tokenselect.kv-memory-fraction=0.5", "spring.ai.tokenselect.persistence.max-bytes=1000000",
                "spring.ai.tokenselect.key-sketches=true", "spring.ai.tokenselect.kv-host-gib=1.5",
                "spring.ai.tokenselect.chat.options.temperature=0.7", "spring.ai.tokenselect.chat.options.top-p=0.9",
                "spring.ai.tokenselect.chat.options.top-k=40", "spring.ai.tokenselect.chat.options.max-tokens=33",
                "spring.ai.tokenselect.chat.options.stop-sequences=END,STOP",
                "spring.ai.tokenselect.chat.options.frequency-penalty=0.1",
                "spring.ai.tokenselect.chat.options.presence-penalty=0.2", "spring.ai.tokenselect.chat.options.seed=7",
                "spring.ai.tokenselect.chat.options.policy=streaming", "spring.ai.tokenselect.chat.options.n-local=32")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    TokenSelectProperties p = ctx.getBean(TokenSelectProperties.class);
                    assertThat(p.getK()).isEqualTo(256);
                    assertThat(p.getNInit()).isEqualTo(16);
                    assertThat(p.getKvMemoryFraction()).isEqualTo(0.5);
                    assertThat(p.getPersistence().getMaxBytes()).isEqualTo(1_000_000);
                    InferenceService.Options o = ctx.getBean(InferenceService.class).options();
                    assertThat(o.attention().kind()).isEqualTo(AttentionSpec.Kind.TOKENSELECT);
                    assertThat(o.attention().params().k()).isEqualTo(256);
                    assertThat(o.attention().params().nLocal()).isEqualTo(64);
                    assertThat(o.attention().params().theta()).isEqualTo(0.8);
                    assertThat(o.attention().params().int8Keys()).isTrue(); // key-sketches: scored on int8 sketches
                    assertThat(p.isKeySketches()).isTrue();
                    assertThat(p.getKvHostGib()).isEqualTo(1.5);
                    assertThat(o.attention().params().prefillChunk()).isEqualTo(64); // never above n-local
                    assertThat(o.maxBatch()).isEqualTo(3);
                    TokenSelectChatOptions chat = ctx.getBean(TokenSelectChatModel.class).getOptions();
                    assertThat(chat.getModel()).isEqualTo("needle-14m");
                    assertThat(chat.getTemperature()).isEqualTo(0.7);
                    assertThat(chat.getTopP()).isEqualTo(0.9);
                    assertThat(chat.getTopK()).isEqualTo(40);
                    assertThat(chat.getMaxTokens()).isEqualTo(33);
                    assertThat(chat.getStopSequences()).containsExactly("END", "STOP");
                    assertThat(chat.getFrequencyPenalty()).isEqualTo(0.1);
                    assertThat(chat.getPresencePenalty()).isEqualTo(0.2);
                    assertThat(chat.getSeed()).isEqualTo(7L);
                    assertThat(chat.getPolicy()).isEqualTo("streaming");
                    assertThat(chat.getNLocal()).isEqualTo(32);
                });
    }

    @Test
    void badPropertiesFailAtStartWithTheirName() {
        runner().withPropertyValues("spring.ai.tokenselect.backend=tpu").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("unknown backend 'tpu'");
        });
        runner().withPropertyValues("spring.ai.tokenselect.policy=magic").run(ctx ->
                assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("unknown attention policy 'magic'"));
        runner().withPropertyValues("spring.ai.tokenselect.model=" + cache.resolve("nothing-here")).run(ctx ->
                assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("nothing-here")
                        .hasMessageContaining("does not exist"));
    }

    @Configuration(proxyBeanMethods = false)
    static class OfflineHub {
        @Bean
        HubClient hub(@org.springframework.beans.factory.annotation.Value("${test.hub-cache}") Path dir) {
            return HubClient.builder().offline(true).cacheDir(dir).build();
        }
    }

    @Test
    void aRepoIdIsResolvedThroughTheHubClient() {
        runner().withUserConfiguration(OfflineHub.class).withPropertyValues("test.hub-cache=" + cache.resolve("hub"),
                "spring.ai.tokenselect.model=tokenselect/needle-14m").run(ctx -> {
                    assertThat(ctx).hasFailed();
                    // offline with an empty cache: the hub client says which repo and what to do
                    assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("tokenselect/needle-14m");
                });
    }

    @Test
    void withoutADataSourceCorporaArePersistedInTheFileCatalogAndRestoredAfterARestart() {
        List<Document> docs = List.of(new Document("The special code for Ada is 318274. The sky is blue.",
                java.util.Map.of("title", "codes")));
        runner().run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(PrefixStore.class)).isInstanceOf(FilePrefixStore.class);
            assertThat(ctx).hasSingleBean(PersistentPrefixes.class);
            CorpusInfo info = ctx.getBean(CorpusService.class).register("codes", docs);
            assertThat(info.prefilledTokens()).isPositive();
            assertThat(Files.exists(cache.resolve(FilePrefixStore.CATALOG))).isTrue();
        });
        runner().run(ctx -> {
            CorpusService corpora = ctx.getBean(CorpusService.class);
            assertThat(corpora.list()).containsExactly("codes");
            assertThat(corpora.resident()).isEmpty();
            CorpusInfo again = corpora.register("codes", docs);
            assertThat(again.prefilledTokens()).isZero();
            assertThat(again.restoredTokens()).isEqualTo(again.tokens());
        });
    }

    @Test
    void persistenceCanBeTurnedOff() {
        runner().withPropertyValues("spring.ai.tokenselect.persistence.enabled=false").run(ctx -> {
            assertThat(ctx).doesNotHaveBean(PersistentPrefixes.class).doesNotHaveBean(PrefixStore.class);
            ctx.getBean(CorpusService.class).register("mem", List.of(new Document("Only in memory.")));
            assertThat(ctx.getBean(CorpusService.class).resident()).containsExactly("mem");
            assertThat(Files.exists(cache.resolve(FilePrefixStore.CATALOG))).isFalse();
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class Meters {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }

    @Test
    void healthAndMetersReportTheEngine() {
        runner().withUserConfiguration(Meters.class).run(ctx -> {
            assertThat(ctx).hasSingleBean(TokenSelectHealthIndicator.class).hasSingleBean(TokenSelectMetrics.class);
            ctx.getBean(CorpusService.class).register("codes", List.of(new Document("The special code for Ada is 318274.")));
            ChatModel model = ctx.getBean(ChatModel.class);
            model.call(new Prompt("What is the special code for Ada?", TokenSelectChatOptions.builder().maxTokens(6).build()));
            model.call(new Prompt("What is the special code for Ada?", TokenSelectChatOptions.builder().maxTokens(6)
                    .corpus("codes").build()));
            Health health = ctx.getBean(TokenSelectHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("backend", "cpu").containsEntry("model", "needle-14m")
                    .containsEntry("residentCorpora", List.of("codes")).containsKey("kvBlocksUsed")
                    .containsEntry("kvTokensCapacity", 8192L);
            MeterRegistry meters = ctx.getBean(MeterRegistry.class);
            assertThat(meters.get("tokenselect.generated.tokens").counter().count()).isGreaterThan(0);
            assertThat(meters.get("tokenselect.time.to.first.token").timer().count()).isEqualTo(2);
            assertThat(meters.get("tokenselect.prefix.cache.hit.tokens").counter().count()).isGreaterThan(0);
            assertThat(meters.get("tokenselect.prefill.tokens").counter().count()).isGreaterThan(0);
            assertThat(meters.get("tokenselect.corpora.resident").gauge().value()).isEqualTo(1);
            assertThat(meters.get("tokenselect.kv.blocks.used").gauge().value()).isPositive();
            assertThat(meters.find("tokenselect.selection.cache.hit.rate").gauge()).isNotNull();
        });
    }

    @Test
    void theConfigurationMetadataIsGeneratedWithDescriptions() throws Exception {
        var json = tools.jackson.databind.json.JsonMapper.builder().build().readTree(
                getClass().getClassLoader().getResource("META-INF/spring-configuration-metadata.json").openStream());
        java.util.Map<String, String> described = new java.util.HashMap<>();
        json.get("properties").forEach(p -> described.put(p.get("name").asString(),
                p.has("description") ? p.get("description").asString() : ""));
        for (String name : List.of("spring.ai.tokenselect.model", "spring.ai.tokenselect.revision",
                "spring.ai.tokenselect.backend", "spring.ai.tokenselect.device", "spring.ai.tokenselect.kv-memory-fraction",
                "spring.ai.tokenselect.kv-capacity-tokens", "spring.ai.tokenselect.cache-dir",
                "spring.ai.tokenselect.persistence.enabled", "spring.ai.tokenselect.policy", "spring.ai.tokenselect.k",
                "spring.ai.tokenselect.n-init", "spring.ai.tokenselect.n-local", "spring.ai.tokenselect.theta",
                "spring.ai.tokenselect.chat.options.temperature", "spring.ai.tokenselect.chat.options.max-tokens",
                "spring.ai.tokenselect.chat.options.k", "spring.ai.tokenselect.corpus-turn",
                "spring.ai.tokenselect.key-sketches")) {
            assertThat(described).as(name).containsKey(name);
            assertThat(described.get(name)).as(name).isNotBlank();
        }
        assertThat(getClass().getClassLoader().getResource("META-INF/spring-autoconfigure-metadata.properties")).isNotNull();
    }

    @Test
    void healthCanBeTurnedOffLikeAnyIndicator() {
        runner().withPropertyValues("management.health.tokenselect.enabled=false").run(ctx ->
                assertThat(ctx).doesNotHaveBean(TokenSelectHealthIndicator.class).hasSingleBean(ChatModel.class));
    }
}
