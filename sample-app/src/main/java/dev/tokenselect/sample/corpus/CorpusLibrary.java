package dev.tokenselect.sample.corpus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.multipart.MultipartFile;

import dev.tokenselect.engine.prefix.CorpusProgress;
import dev.tokenselect.engine.prefix.CorpusStatus;
import dev.tokenselect.sample.SampleProperties;
import dev.tokenselect.sample.documents.StoredFiles;
import dev.tokenselect.sample.documents.TextExtractor;
import dev.tokenselect.sample.documents.UploadChecks;
import dev.tokenselect.sample.documents.UploadChecks.CheckedFile;
import dev.tokenselect.sample.documents.UploadRejected;
import dev.tokenselect.spring.ai.corpus.CorpusService;

/**
 * The corpora of the app: uploads become documents of a named corpus (checked, read, stored, catalogued), and the
 * corpus is then made resident in the background; listing joins the catalogue with the engine's view of each
 * corpus (size, KV bytes, residence) and the progress of those being prepared.
 */
@Service
public class CorpusLibrary {

    private static final Logger LOG = LoggerFactory.getLogger(CorpusLibrary.class);

    private final CorpusRepository repository;
    private final CorpusPreparer preparer;
    private final CorpusService corpora;
    private final UploadChecks checks;
    private final TextExtractor extractor;
    private final StoredFiles files;
    private final TransactionTemplate transactions;
    private final int maxDocuments;

    public CorpusLibrary(CorpusRepository repository, CorpusPreparer preparer, CorpusService corpora, UploadChecks checks,
                         TextExtractor extractor, StoredFiles files, TransactionTemplate transactions,
                         SampleProperties properties) {
        this.repository = repository;
        this.preparer = preparer;
        this.corpora = corpora;
        this.checks = checks;
        this.extractor = extractor;
        this.files = files;
        this.transactions = transactions;
        this.maxDocuments = properties.getUpload().getMaxDocumentsPerCorpus();
    }

    /** Corpora catalogued by the app but unknown to the engine (a new model, a lost cache) are prepared again. */
    @EventListener(ApplicationReadyEvent.class)
    public void prepareMissing() {
        List<String> known = corpora.list();
        for (String name : repository.names()) {
            if (!known.contains(name)) {
                LOG.info("corpus {} is not in the engine's catalog: preparing it from its documents", name);
                preparer.prepare(name, false);
            }
        }
    }

    /**
     * Adds files to a corpus (made when new): every file is checked and read before anything is stored, so a bad
     * file leaves the corpus as it was. The corpus is then prepared again in the background.
     */
    public CorpusView upload(String corpus, List<MultipartFile> uploads) {
        CorpusNames.check(corpus);
        List<CheckedFile> checked = checks.check(uploads);
        int have = repository.documentCount(corpus);
        if (have + checked.size() > maxDocuments) {
            throw new UploadRejected(HttpStatus.BAD_REQUEST, "Too many documents", "Corpus '" + corpus + "' holds "
                    + have + " documents; " + checked.size() + " more would pass the limit of " + maxDocuments
                    + " (sample.upload.max-documents-per-corpus): make another corpus for them.");
        }
        List<CorpusRepository.NewDocument> documents = new ArrayList<>();
        for (CheckedFile f : checked) {
            String text = extractor.text(f.name(), f.type(), f.bytes());
            documents.add(new CorpusRepository.NewDocument(UUID.randomUUID(), f.name(), f.type().mediaType(),
                    f.bytes().length, text));
        }
        List<UUID> stored = new ArrayList<>();
        try {
            for (int i = 0; i < documents.size(); i++) {
                files.store(documents.get(i).id(), checked.get(i).bytes());
                stored.add(documents.get(i).id());
            }
            transactions.executeWithoutResult(s -> repository.add(corpus, documents));
        } catch (RuntimeException e) {
            stored.forEach(files::delete);
            throw e;
        }
        preparer.prepare(corpus, true);
        return view(corpus, statuses());
    }

    public List<CorpusView> list() {
        Map<String, CorpusStatus> statuses = statuses();
        return repository.names().stream().map(name -> view(name, statuses)).toList();
    }

    public CorpusView get(String name) {
        if (!repository.exists(name)) {
            throw notFound(name);
        }
        return view(name, statuses());
    }

    /** Removes the corpus, its documents and files, and its resident and persisted K/V. */
    public void delete(String name) {
        if (!repository.exists(name)) {
            throw notFound(name);
        }
        List<UUID> ids = transactions.execute(s -> repository.delete(name));
        preparer.remove(name);
        ids.forEach(files::delete);
    }

    /** A question may go to this corpus now: it exists and is ready (resident, or on disk to be restored). */
    public void requireReady(String name) {
        if (!repository.exists(name)) {
            throw new CorpusUnavailable(HttpStatus.NOT_FOUND, "There is no corpus named '" + name + "': upload "
                    + "documents into it first (corpora: " + repository.names() + ").");
        }
        var preparation = preparer.preparation(name);
        if (preparation.isPresent()) {
            var p = preparation.get();
            if (p.state() == CorpusPreparer.State.FAILED) {
                throw new CorpusUnavailable(HttpStatus.CONFLICT, "Corpus '" + name + "' could not be prepared: "
                        + p.error() + ". Upload its documents again, or delete it.");
            }
            String done = p.progress() == null ? "queued" : Math.round(100 * p.progress().fraction()) + "% done";
            throw new CorpusUnavailable(HttpStatus.CONFLICT, "Corpus '" + name + "' is still being prepared ("
                    + done + "): ask again when the corpora page shows it ready.");
        }
        if (!corpora.exists(name)) {
            preparer.prepare(name, false);
            throw new CorpusUnavailable(HttpStatus.CONFLICT, "Corpus '" + name + "' is not in the engine yet: it is "
                    + "being prepared now, ask again in a moment.");
        }
    }

    private Map<String, CorpusStatus> statuses() {
        Map<String, CorpusStatus> byName = new HashMap<>();
        for (CorpusStatus s : corpora.statuses()) {
            byName.put(s.name(), s);
        }
        return byName;
    }

    private CorpusView view(String name, Map<String, CorpusStatus> statuses) {
        var documents = repository.summaries(name);
        var preparation = preparer.preparation(name);
        if (preparation.isPresent()) {
            var p = preparation.get();
            CorpusProgress progress = p.progress();
            CorpusView.Progress shown = progress == null ? null : new CorpusView.Progress(
                    progress.stage().name().toLowerCase(Locale.ROOT), progress.doneTokens(), progress.totalTokens(),
                    Math.round(1000 * progress.fraction()) / 10.0);
            return new CorpusView(name, p.state().name().toLowerCase(Locale.ROOT), null,
                    progress == null ? null : progress.totalTokens(), null, null, shown, p.error(), documents);
        }
        CorpusStatus s = statuses.get(name);
        if (s == null) {
            return new CorpusView(name, "queued", null, null, null, null, null, null, documents);
        }
        return new CorpusView(name, "ready", s.residence().name().toLowerCase(Locale.ROOT), s.tokens(), s.kvBytes(),
                s.persistedBytes(), null, null, documents);
    }

    private static CorpusUnavailable notFound(String name) {
        return new CorpusUnavailable(HttpStatus.NOT_FOUND, "There is no corpus named '" + name + "'.");
    }
}
