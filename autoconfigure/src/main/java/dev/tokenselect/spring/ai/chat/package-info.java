/** The Spring AI chat model on the TokenSelect engine, and its options. */
package dev.tokenselect.spring.ai.chat;
