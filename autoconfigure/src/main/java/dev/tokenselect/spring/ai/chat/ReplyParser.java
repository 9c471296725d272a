package dev.tokenselect.spring.ai.chat;

import java.util.List;

import org.springframework.ai.chat.messages.AssistantMessage;

/** Splits a model's reply into its text and the tool calls it asks for (the format is the checkpoint's own). */
@FunctionalInterface
interface ReplyParser {

    record Reply(String content, List<AssistantMessage.ToolCall> toolCalls) {
    }

    Reply parse(String text);

    ReplyParser TEXT_ONLY = text -> new Reply(text, List.of());
}
