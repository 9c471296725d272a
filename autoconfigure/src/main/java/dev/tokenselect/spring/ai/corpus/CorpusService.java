package dev.tokenselect.spring.ai.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.springframework.ai.document.Document;

import dev.tokenselect.engine.prefix.CorpusListener;
import dev.tokenselect.engine.prefix.CorpusManager.CorpusInfo;
import dev.tokenselect.engine.prefix.CorpusPrompts;
import dev.tokenselect.engine.prefix.CorpusStatus;
import dev.tokenselect.engine.serve.InferenceService;

/**
 * Registers, lists and removes the engine's resident corpora from Spring AI {@link Document}s, so Spring AI's
 * document readers (PDF, Markdown, text, ...) feed it directly. A registered corpus is prefilled once (or restored
 * from the persisted cache), pinned, and then continued by every question that {@link CorpusAdvisor} puts after it.
 */
public class CorpusService {

    private final InferenceService service;

    public CorpusService(InferenceService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    /**
     * Makes {@code name} resident with these documents, in order. Idempotent for the same documents; a name that is
     * resident with other documents must be unregistered first.
     *
     * @return how many tokens the corpus has and how many this call prefilled or restored
     */
    public CorpusInfo register(String name, List<Document> documents) {
        return register(name, documents, CorpusListener.NONE);
    }

    /**
     * As {@link #register(String, List)}, telling {@code listener} how the restore or prefill goes (on this thread):
     * run it on a background thread and show the progress while a large corpus is prefilled.
     */
    public CorpusInfo register(String name, List<Document> documents, CorpusListener listener) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a corpus needs a name");
        }
        if (documents == null || documents.isEmpty()) {
            throw new IllegalArgumentException("corpus '" + name + "' needs at least one document");
        }
        List<CorpusPrompts.Document> docs = new ArrayList<>(documents.size());
        for (Document d : documents) {
            if (d.getText() == null) {
                throw new IllegalArgumentException("document " + d.getId() + " of corpus '" + name + "' has no text (a media "
                        + "document): give its text instead");
            }
            docs.add(new CorpusPrompts.Document(title(d), d.getText()));
        }
        return service.registerCorpus(name, docs, listener);
    }

    /** @return whether a corpus of that name existed */
    public boolean unregister(String name) {
        return service.unregisterCorpus(name);
    }

    /** Corpora resident here or catalogued for this model (a catalogued one is restored on first use). */
    public List<String> list() {
        return service.corpusNames();
    }

    public boolean exists(String name) {
        return service.corpusNames().contains(name);
    }

    /** Size in tokens, KV bytes and residence (device, host or disk) of every corpus; restores nothing. */
    public List<CorpusStatus> statuses() {
        return service.corpusStatuses();
    }

    /** Corpora whose prefix is resident in memory now. */
    public List<String> resident() {
        return service.stats().residentCorpora();
    }

    /** The title Spring AI's readers leave in the metadata, else the document's id. */
    static String title(Document d) {
        Map<String, Object> m = d.getMetadata();
        for (String key : List.of("title", "file_name", "source", "filename")) {
            Object v = m.get(key);
            if (v != null && !v.toString().isBlank()) {
                return v.toString();
            }
        }
        return d.getId();
    }
}
