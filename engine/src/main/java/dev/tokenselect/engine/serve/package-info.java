/**
 * The engine as a service for many threads: one request queue with continuous batching
 * ({@code generate.BatchScheduler}) in front of the prefix cache and the resident corpora, so
 * concurrent requests share cached prefixes and decode together without sharing any state.
 */
package dev.tokenselect.engine.serve;
