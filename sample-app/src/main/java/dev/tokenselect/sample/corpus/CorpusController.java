package dev.tokenselect.sample.corpus;

import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/**
 * The corpora: list them with their size, KV bytes, residence and preparation progress; upload documents into one
 * (multipart field {@code files}); delete one.
 */
@RestController
@RequestMapping("/api/corpora")
class CorpusController {

    private final CorpusLibrary library;

    CorpusController(CorpusLibrary library) {
        this.library = library;
    }

    @GetMapping
    List<CorpusView> list() {
        return library.list();
    }

    @GetMapping("/{name}")
    CorpusView get(@PathVariable String name) {
        return library.get(name);
    }

    /** 202: stored and read; the corpus is prepared in the background (poll the list for its progress). */
    @PostMapping("/{name}/documents")
    ResponseEntity<CorpusView> upload(@PathVariable String name,
                                      @RequestParam(name = "files", required = false) List<MultipartFile> files) {
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(library.upload(name, files));
    }

    @DeleteMapping("/{name}")
    ResponseEntity<Void> delete(@PathVariable String name) {
        library.delete(name);
        return ResponseEntity.noContent().build();
    }
}
