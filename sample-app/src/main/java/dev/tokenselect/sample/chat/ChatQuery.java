package dev.tokenselect.sample.chat;

import java.util.List;

import org.springframework.ai.chat.messages.Message;

import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;

/**
 * One request to answer: the conversation so far (ending with the user's question), the corpus it continues (null
 * for none) and the request's options.
 */
public record ChatQuery(String corpus, List<Message> messages, TokenSelectChatOptions options) {
}
