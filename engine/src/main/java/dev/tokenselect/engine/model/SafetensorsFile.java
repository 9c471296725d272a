package dev.tokenselect.engine.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One memory-mapped {@code .safetensors} file. The whole file is mapped as a single
 * {@link MemorySegment}, so files larger than 2 GB need no special handling; tensors are slices of it.
 */
public final class SafetensorsFile {

    /** Headers are a few MB even for the largest checkpoints; a larger length means a corrupt file. */
    private static final long MAX_HEADER_BYTES = 512L * 1024 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path path;
    private final Map<String, Entry> entries;
    private final MemorySegment data;

    /** A tensor's header entry; its dtype stays a string so unused exotic tensors never fail a load. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {}

    private SafetensorsFile(Path path, Map<String, Entry> entries, MemorySegment data) {
        this.path = path;
        this.entries = entries;
        this.data = data;
    }

    public static SafetensorsFile open(Path path, Arena arena) {
        long size;
        MemorySegment file;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8) {
                throw new ModelFormatException(path, "truncated file: " + size
                        + " bytes, too short for a safetensors header; download the file again");
            }
            file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read file: " + e.getMessage(), e);
        }
        long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
            throw new ModelFormatException(path, "bad header: declared header length " + headerLength
                    + " does not fit the file of " + size + " bytes; the file is not safetensors or is damaged");
        }
        byte[] headerBytes = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            throw new ModelFormatException(path, "bad header: not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (header == null || !header.isObject()) {
            throw new ModelFormatException(path, "bad header: expected a JSON object of tensors");
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            entries.put(name, parseEntry(path, name, field.getValue(), dataSize));
        }
        return new SafetensorsFile(path, entries, file.asSlice(dataStart, dataSize));
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isString() || shape == null || !shape.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFormatException(path, "bad header: tensor '" + name
                    + "' needs dtype, shape and data_offsets [begin, end]");
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong();
            if (dims[i] < 0) {
                throw new ModelFormatException(path, "bad header: tensor '" + name + "' has a negative dimension");
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new ModelFormatException(path, "bad header: tensor '" + name + "' has data_offsets ["
                    + begin + ", " + end + "]");
        }
        if (end > dataSize) {
            throw new ModelFormatException(path, "truncated file: tensor '" + name + "' ends at byte " + end
                    + " of the data section but the file holds only " + dataSize
                    + " bytes of data; download the file again");
        }
        DType known = DType.fromSafetensors(dtype.asString());
        if (known != null) {
            long numel = 1;
            for (long d : dims) {
                numel = Math.multiplyExact(numel, d);
            }
            if (numel * known.bytes() != end - begin) {
                throw new ModelFormatException(path, "bad header: tensor '" + name + "' of shape "
                        + java.util.Arrays.toString(dims) + " in " + known + " needs " + numel * known.bytes()
                        + " bytes but data_offsets span " + (end - begin));
            }
        }
        return new Entry(name, dtype.asString(), dims, begin, end);
    }

    public Path path() {
        return path;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Tensor tensor(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            return null;
        }
        DType dtype = DType.fromSafetensors(e.dtype());
        if (dtype == null) {
            throw new ModelFormatException(path, "tensor '" + name + "' is stored as " + e.dtype()
                    + "; the engine reads BF16, F16 or F32 weights (convert the checkpoint, e.g. with transformers' save_pretrained)");
        }
        return new Tensor(name, dtype, e.shape().clone(), data.asSlice(e.begin(), e.end() - e.begin()));
    }
}
