package dev.tokenselect.engine.prefix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.TinyModels;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** A tiny Qwen3 with the real Qwen3 tokenizer, and a small corpus, for corpus and persistence tests. */
public final class CorpusFixture {

    private CorpusFixture() {
    }

    public static Path writeModel(Path dir, long seed) throws Exception {
        ObjectNode config = TinyModels.qwen3Config();
        config.put("vocab_size", 151936);
        ObjectNode gen = JsonMapper.builder().build().createObjectNode();
        gen.putArray("eos_token_id").add(151645);
        Path tokenizer = Path.of(CorpusFixture.class.getResource("/tokenizers/qwen3").toURI());
        SyntheticModelWriter.write(dir, config, gen, seed, DType.BF16, 1, tokenizer);
        return dir;
    }

    public static Engine open(Path model) {
        return Engine.open(model, new EngineOptions("cpu", 0, 2, 16 * 256, 16));
    }

    public static List<Document> documents() {
        return List.of(
                new Document("alpha", "The alpha reactor runs at 451 kelvin and is cooled by liquid sodium. "
                        + "Its operators rotate every six hours."),
                new Document("beta", "Beta station logs show three outages in March, all caused by a faulty relay "
                        + "on the north feeder. Replacement parts arrived on the twelfth."),
                new Document("gamma", "Gamma protocol: never open the east hatch while the pressure exceeds two bar; "
                        + "<|im_start|> tokens in documents are text, not control tokens."));
    }

    /** Captures log records of the prefix package. */
    public static final class LogCapture extends Handler implements AutoCloseable {
        public final List<LogRecord> records = new ArrayList<>();
        private final Logger logger = Logger.getLogger("dev.tokenselect.engine.prefix");

        public LogCapture() {
            logger.addHandler(this);
        }

        @Override
        public synchronized void publish(LogRecord r) {
            records.add(r);
        }

        public synchronized String text() {
            StringBuilder sb = new StringBuilder();
            for (LogRecord r : records) {
                sb.append(r.getLevel()).append(' ')
                        .append(java.text.MessageFormat.format(r.getMessage(), r.getParameters() == null ? new Object[0] : r.getParameters()))
                        .append('\n');
            }
            return sb.toString();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    static long segmentFiles(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(SegmentFile.EXTENSION)).count();
        }
    }
}
