package dev.tokenselect.engine.model.synthetic;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.LongToDoubleFunction;

import dev.tokenselect.engine.model.DType;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Writes a {@code .safetensors} file from value functions, streaming, so multi-GB files need little heap. */
public final class SafetensorsWriter {

    /** A tensor to write: element {@code i} (row-major) is {@code values.applyAsDouble(i)}. */
    public record Entry(String name, DType dtype, long[] shape, LongToDoubleFunction values) {
        long bytes() {
            long n = dtype.bytes();
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private SafetensorsWriter() {
    }

    public static void write(Path file, List<Entry> entries) throws IOException {
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", e.dtype().safetensorsName());
            var shape = t.putArray("shape");
            for (long d : e.shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + e.bytes());
            offset += e.bytes();
        }
        byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // keeps tensor data 8-byte aligned, as safetensors does
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            buf.putLong(padded).put(headerBytes);
            for (int i = headerBytes.length; i < padded; i++) {
                buf.put((byte) ' ');
            }
            for (Entry e : entries) {
                long n = e.bytes() / e.dtype().bytes();
                for (long i = 0; i < n; i++) {
                    if (buf.remaining() < 4) {
                        flush(ch, buf);
                    }
                    float v = (float) e.values().applyAsDouble(i);
                    switch (e.dtype()) {
                        case F32 -> buf.putFloat(v);
                        case F16 -> buf.putShort(Float.floatToFloat16(v));
                        case BF16 -> buf.putShort(toBf16(v));
                    }
                }
            }
            flush(ch, buf);
        }
    }

    /** Round-to-nearest-even, as torch converts fp32 to bf16. */
    static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) 0x7FC0;
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }
}
