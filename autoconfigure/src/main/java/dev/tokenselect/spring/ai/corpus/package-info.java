/** Resident corpora for Spring AI: registered from documents, put in front of conversations by an advisor. */
package dev.tokenselect.spring.ai.corpus;
