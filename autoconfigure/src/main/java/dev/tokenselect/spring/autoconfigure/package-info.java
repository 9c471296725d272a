/** Spring Boot auto-configuration of the TokenSelect {@code ChatModel}. */
package dev.tokenselect.spring.autoconfigure;
