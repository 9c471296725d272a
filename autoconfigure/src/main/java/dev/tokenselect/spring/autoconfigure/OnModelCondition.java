package dev.tokenselect.spring.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.StringUtils;

/** Matches when {@code spring.ai.tokenselect.model} has text: without a model there is no engine to start. */
class OnModelCondition extends SpringBootCondition {

    static final String PROPERTY = TokenSelectProperties.PREFIX + ".model";

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        String model = context.getEnvironment().getProperty(PROPERTY);
        return StringUtils.hasText(model) ? ConditionOutcome.match(PROPERTY + " is " + model)
                : ConditionOutcome.noMatch(PROPERTY + " is not set");
    }
}
