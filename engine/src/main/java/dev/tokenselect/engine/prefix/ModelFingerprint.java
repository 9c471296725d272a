package dev.tokenselect.engine.prefix;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.model.SafetensorsFile;
import dev.tokenselect.engine.model.WeightFiles;

/**
 * The identity of a model's numerics, cheap to compute: SHA-256 over {@code config.json}'s bytes, every
 * tensor's name, dtype, shape and byte length, the names and sizes of the weight files, and three
 * 64-byte samples of every tensor's data (a few pages per tensor; the weights are not read in full). Two directories with the same fingerprint produce the same KV cache.
 */
public final class ModelFingerprint {

    private ModelFingerprint() {
    }

    /** 64 hex digits. */
    public static String of(Model model) {
        return of(model.directory(), model.files().entries(), model.files());
    }

    /**
     * @param weights when given, {@value #SAMPLES} samples of {@value #SAMPLE_BYTES} bytes of every tensor's data
     *                (start, middle, end) are hashed too: same-shaped checkpoints with other weights (a fine-tune,
     *                another seed) then differ, at the cost of reading a few pages per tensor
     */
    public static String of(Path modelDir, Map<String, SafetensorsFile.Entry> tensors, WeightFiles weights) {
        MessageDigest md = Sha256.newDigest();
        Sha256.putString(md, "tokenselect-model-fingerprint-v1");
        try {
            byte[] config = Files.readAllBytes(modelDir.resolve(ModelConfig.FILE));
            Sha256.putInt(md, config.length);
            md.update(config);
            for (SafetensorsFile.Entry e : new TreeMap<>(tensors).values()) {
                Sha256.putString(md, e.name());
                Sha256.putString(md, e.dtype());
                Sha256.putInt(md, e.shape().length);
                for (long d : e.shape()) {
                    Sha256.putLong(md, d);
                }
                Sha256.putLong(md, e.end() - e.begin());
                if (weights != null) {
                    sample(md, weights.require(e.name(), e.shape()).data());
                }
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(modelDir)) {
                files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            }
            for (Path f : files) {
                Sha256.putString(md, f.getFileName().toString());
                Sha256.putLong(md, Files.size(f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fingerprint the model in " + modelDir + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static final int SAMPLES = 3;
    static final int SAMPLE_BYTES = 64;

    private static void sample(MessageDigest md, MemorySegment data) {
        long size = data.byteSize();
        long n = Math.min(SAMPLE_BYTES, size);
        for (long at : new long[] {0, (size - n) / 2, size - n}) {
            md.update(data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
