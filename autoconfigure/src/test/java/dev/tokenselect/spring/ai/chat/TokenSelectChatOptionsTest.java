package dev.tokenselect.spring.ai.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.prompt.ChatOptions;

import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.model.GenerationConfig;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/** The options' merge (as ChatClient does it) and what they mean to the engine. */
class TokenSelectChatOptionsTest {

    private static TokenSelectChatOptions full() {
        return TokenSelectChatOptions.builder().model("m").temperature(0.5).topP(0.9).topK(20).maxTokens(64)
                .stopSequences(List.of("END")).frequencyPenalty(0.1).presencePenalty(0.2).minP(0.05)
                .repetitionPenalty(1.1).seed(42L).policy("tokenselect").k(1024).nInit(64).nLocal(256).theta(0.8)
                .corpus("handbook").cacheSalt("tenant-a").enableThinking(false).toolContext(java.util.Map.of("tenant", "a"))
                .build();
    }

    @Test
    void mutateCopiesEveryField() {
        TokenSelectChatOptions o = full();
        assertThat(o.mutate().build()).isEqualTo(o).hasSameHashCodeAs(o);
    }

    @Test
    void combineWithKeepsOurFieldsAsChatClientMergesDefaultsAndRequestOptions() {
        TokenSelectChatOptions defaults = full();
        // ChatClient: model.getOptions().mutate().combineWith(requestOptionsBuilder)
        TokenSelectChatOptions.Builder request = TokenSelectChatOptions.builder().k(64).corpus("other").temperature(0.0)
                .cacheSalt("tenant-b");
        ChatOptions merged = defaults.mutate().combineWith(request).build();
        assertThat(merged).isInstanceOf(TokenSelectChatOptions.class);
        TokenSelectChatOptions m = (TokenSelectChatOptions) merged;
        assertThat(m.getK()).isEqualTo(64);
        assertThat(m.getCorpus()).isEqualTo("other");
        assertThat(m.getCacheSalt()).isEqualTo("tenant-b");
        assertThat(m.getTemperature()).isEqualTo(0.0);
        assertThat(m.getNLocal()).isEqualTo(256);
        assertThat(m.getPolicy()).isEqualTo("tokenselect");
        assertThat(m.getSeed()).isEqualTo(42L);
        assertThat(m.getTopK()).isEqualTo(20);
        // a plain Spring AI options builder merges its standard fields
        ChatOptions plain = defaults.mutate().combineWith(ChatOptions.builder().topP(0.5)).build();
        assertThat(((TokenSelectChatOptions) plain).getTopP()).isEqualTo(0.5);
        assertThat(((TokenSelectChatOptions) plain).getK()).isEqualTo(1024);
        assertThat(((TokenSelectChatOptions) plain).getCacheSalt()).isEqualTo("tenant-a");
    }

    @Test
    void unsetSamplingOptionsTakeTheCheckpointsRecommendation() {
        GenerationConfig gen = new GenerationConfig(Set.of(2), 0, 0.6, 20, 0.95, null);
        SamplingParams p = RequestOptions.sampling(TokenSelectChatOptions.builder().build(), gen);
        assertThat(p.temperature()).isEqualTo(0.6);
        assertThat(p.topK()).isEqualTo(20);
        assertThat(p.topP()).isEqualTo(0.95);
        assertThat(p.maxTokens()).isEqualTo(RequestOptions.DEFAULT_MAX_TOKENS);
        SamplingParams set = RequestOptions.sampling(full(), gen);
        assertThat(set.temperature()).isEqualTo(0.5);
        assertThat(set.frequencyPenalty()).isEqualTo(0.1);
        assertThat(set.presencePenalty()).isEqualTo(0.2);
        assertThat(set.repetitionPenalty()).isEqualTo(1.1);
        assertThat(set.minP()).isEqualTo(0.05);
        assertThat(set.seed()).isEqualTo(42L);
        assertThat(set.stopStrings()).containsExactly("END");
        assertThatThrownBy(() -> RequestOptions.sampling(TokenSelectChatOptions.builder().topP(0.0).build(), gen))
                .hasMessageContaining("chat options").hasMessageContaining("top-p");
    }

    @Test
    void attentionOptionsOverrideTheServiceDefault() {
        AttentionSpec ts = AttentionSpec.tokenSelect(new SelectionParams(2048, 128, 512, 0.9, 512));
        assertThat(RequestOptions.attention(TokenSelectChatOptions.builder().build(), ts, 512)).isSameAs(ts);
        AttentionSpec k = RequestOptions.attention(TokenSelectChatOptions.builder().k(64).build(), ts, 512);
        assertThat(k.kind()).isEqualTo(AttentionSpec.Kind.TOKENSELECT);
        assertThat(k.params()).isEqualTo(new SelectionParams(64, 128, 512, 0.9, 512));
        // a selection parameter alone on a full-attention service means TokenSelect
        AttentionSpec fromFull = RequestOptions.attention(TokenSelectChatOptions.builder().nLocal(128).build(),
                AttentionSpec.full(), 512);
        assertThat(fromFull.kind()).isEqualTo(AttentionSpec.Kind.TOKENSELECT);
        assertThat(fromFull.params().prefillChunk()).isEqualTo(128);
        assertThat(RequestOptions.attention(TokenSelectChatOptions.builder().policy("full").build(), ts, 512).kind())
                .isEqualTo(AttentionSpec.Kind.FULL);
        assertThat(RequestOptions.attention(TokenSelectChatOptions.builder().policy("streaming").build(), ts, 512).kind())
                .isEqualTo(AttentionSpec.Kind.STREAMING);
        assertThatThrownBy(() -> RequestOptions.attention(TokenSelectChatOptions.builder().policy("psychic").build(), ts, 512))
                .hasMessageContaining("unknown attention policy 'psychic'");
        assertThatThrownBy(() -> RequestOptions.attention(TokenSelectChatOptions.builder().nLocal(0).build(), ts, 512))
                .hasMessageContaining("n-local");
    }

    @Test
    void aRequestOnlyOverridesWhatItSets() {
        TokenSelectChatOptions resolved = RequestOptions.resolve(TokenSelectChatOptions.builder().temperature(1.0).build(),
                full());
        assertThat(resolved.getTemperature()).isEqualTo(1.0);
        assertThat(resolved.getK()).isEqualTo(1024);
        assertThat(resolved.getCorpus()).isEqualTo("handbook");
        assertThat(RequestOptions.resolve(null, full())).isEqualTo(full());
        TokenSelectChatOptions fromPlain = RequestOptions.resolve(ChatOptions.builder().maxTokens(5).build(), full());
        assertThat(fromPlain.getMaxTokens()).isEqualTo(5);
        assertThat(fromPlain.getTheta()).isEqualTo(0.8);
    }
}
