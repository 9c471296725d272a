package dev.tokenselect.spring.autoconfigure;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Conditional;

/**
 * The engine is configured: {@code spring.ai.model.chat} is {@code tokenselect} or unset, and
 * {@code spring.ai.tokenselect.model} names a model.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Documented
@ConditionalOnProperty(name = "spring.ai.model.chat", havingValue = "tokenselect", matchIfMissing = true)
@Conditional(OnModelCondition.class)
public @interface ConditionalOnTokenSelectModel {
}
