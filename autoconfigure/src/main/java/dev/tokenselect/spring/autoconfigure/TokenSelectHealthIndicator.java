package dev.tokenselect.spring.autoconfigure;

import java.util.Locale;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.engine.serve.ServiceStats;

/** The engine in the actuator's health: backend, device, model, KV pool use and resident corpora. */
public class TokenSelectHealthIndicator implements HealthIndicator {

    private final InferenceService service;

    public TokenSelectHealthIndicator(InferenceService service) {
        this.service = service;
    }

    @Override
    public Health health() {
        ServiceStats s = service.stats();
        Health.Builder health = Health.up()
                .withDetail("backend", s.backend())
                .withDetail("device", s.device())
                .withDetail("model", s.model())
                .withDetail("architecture", s.architecture())
                .withDetail("prefixCaching", s.prefixCaching())
                .withDetail("residentCorpora", s.residentCorpora())
                .withDetail("requests", s.requests());
        if (s.kvBlocksTotal() > 0) {
            health.withDetail("kvBlocksUsed", s.kvBlocksUsed())
                    .withDetail("kvBlocksTotal", s.kvBlocksTotal())
                    .withDetail("kvTokensCapacity", s.kvBlocksTotal() * s.blockSize())
                    .withDetail("kvUse", String.format(Locale.ROOT, "%.1f%%", 100 * s.kvUse()))
                    .withDetail("prefixCacheBlocks", s.cachedBlocks());
        }
        return health.build();
    }
}
