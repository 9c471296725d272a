package dev.tokenselect.engine.prefix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

import dev.tokenselect.engine.kv.KvGeometry;

/**
 * The on-disk form of one persisted prefix segment. Header fields are big-endian:
 * <pre>
 *  magic           8 bytes  "TSKVSEG" 0x00
 *  format version  u32      {@value #VERSION}
 *  header length   u32      bytes from the start of the file to the end of the header CRC
 *  model fingerprint 32 bytes (SHA-256, {@link ModelFingerprint})
 *  segment id      32 bytes ({@link CacheKey#segmentId})
 *  layers, KV heads, head dim, block size   4 × u32 (KV geometry)
 *  dtype           u8       1 = fp32, 2 = bf16 (the pool's precision)
 *  byte order      u8       0 = little-endian, 1 = big-endian (of the block bytes)
 *  reserved        u16      0
 *  chunk alignment u32      ({@link CacheKey#chunkAlignment()})
 *  attention key   u16 length + UTF-8
 *  token count N   u32, then N × i32 token ids
 *  chain length P  u32, then P × 32-byte block hashes ({@link CacheKey#chain}, publishable blocks)
 *  block count M   u32      ceil(N / block size); the last block may be partial
 *  block bytes     u64      {@link KvAccess#blockBytes()}
 *  header CRC32C   u32      over every header byte before it
 * then M × (block bytes in the pool's layout, then u32 CRC32C of those bytes).
 * </pre>
 * The file's length must be exactly {@code header length + M × (block bytes + 4)}.
 */
final class SegmentFile {

    static final byte[] MAGIC = {'T', 'S', 'K', 'V', 'S', 'E', 'G', 0};
    static final int VERSION = 1;
    static final int DTYPE_F32 = 1;
    static final int DTYPE_BF16 = 2;
    static final String EXTENSION = ".kvseg";
    /** Offset of the format version field (for tests that forge a file). */
    static final int VERSION_OFFSET = 8;
    static final int FINGERPRINT_OFFSET = 16;

    private SegmentFile() {
    }

    record Header(int version, byte[] fingerprint, byte[] segmentId, KvGeometry geometry, int dtype, ByteOrder order,
                  int chunkAlignment, String attentionKey, int[] tokens, BlockHash[] chain, int blockCount, long blockBytes,
                  long headerBytes) {

        long fileBytes() {
            return headerBytes + blockCount * (blockBytes + 4);
        }

        long blockOffset(int index) {
            return headerBytes + index * (blockBytes + 4);
        }

        String fingerprintHex() {
            return HexFormat.of().formatHex(fingerprint);
        }

        String segmentIdHex() {
            return HexFormat.of().formatHex(segmentId);
        }
    }

    static byte[] encodeHeader(Header h) {
        byte[] key = h.attentionKey().getBytes(StandardCharsets.UTF_8);
        int size = 8 + 4 + 4 + 32 + 32 + 16 + 4 + 4 + 2 + key.length + 4 + 4 * h.tokens().length + 4
                + 32 * h.chain().length + 4 + 8 + 4;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.BIG_ENDIAN);
        b.put(MAGIC).putInt(h.version()).putInt(size).put(h.fingerprint()).put(h.segmentId());
        KvGeometry g = h.geometry();
        b.putInt(g.numLayers()).putInt(g.numKvHeads()).putInt(g.headDim()).putInt(g.blockSize());
        b.put((byte) h.dtype()).put((byte) (h.order() == ByteOrder.BIG_ENDIAN ? 1 : 0)).putShort((short) 0);
        b.putInt(h.chunkAlignment());
        b.putShort((short) key.length).put(key);
        b.putInt(h.tokens().length);
        for (int t : h.tokens()) {
            b.putInt(t);
        }
        b.putInt(h.chain().length);
        for (BlockHash c : h.chain()) {
            b.put(c.bytes());
        }
        b.putInt(h.blockCount()).putLong(h.blockBytes());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** Reads and checks the header: magic, version, header checksum and the file's exact length. */
    static Header readHeader(FileChannel ch) throws IOException {
        long size = ch.size();
        ByteBuffer fixed = ByteBuffer.allocate(16);
        readFully(ch, fixed, 0, "header");
        byte[] magic = new byte[8];
        fixed.flip().get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new SegmentFormatException("not a KV segment file (bad magic)");
        }
        int version = fixed.getInt();
        if (version != VERSION) {
            throw new SegmentFormatException("format version " + version + ", this engine reads version " + VERSION);
        }
        int headerBytes = fixed.getInt();
        if (headerBytes < 16 || headerBytes > size) {
            throw new SegmentFormatException("truncated header (header of " + headerBytes + " bytes, file of " + size + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(headerBytes);
        readFully(ch, b, 0, "header");
        b.flip();
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, headerBytes - 4);
        if ((int) crc.getValue() != b.getInt(headerBytes - 4)) {
            throw new SegmentFormatException("header checksum mismatch");
        }
        try {
            b.position(16);
            byte[] fingerprint = new byte[32];
            byte[] segmentId = new byte[32];
            b.get(fingerprint).get(segmentId);
            KvGeometry g = new KvGeometry(b.getInt(), b.getInt(), b.getInt(), b.getInt());
            int dtype = b.get();
            ByteOrder order = b.get() == 1 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            b.getShort();
            int chunkAlignment = b.getInt();
            byte[] key = new byte[b.getShort() & 0xffff];
            b.get(key);
            int[] tokens = new int[b.getInt()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = b.getInt();
            }
            BlockHash[] chain = new BlockHash[b.getInt()];
            byte[] hash = new byte[32];
            for (int i = 0; i < chain.length; i++) {
                b.get(hash);
                chain[i] = BlockHash.of(hash);
            }
            int blockCount = b.getInt();
            long blockBytes = b.getLong();
            Header h = new Header(version, fingerprint, segmentId, g, dtype, order, chunkAlignment,
                    new String(key, StandardCharsets.UTF_8), tokens, chain, blockCount, blockBytes, headerBytes);
            if (b.position() != headerBytes - 4) {
                throw new SegmentFormatException("header length mismatch");
            }
            if (h.fileBytes() != size) {
                throw new SegmentFormatException("file is " + size + " bytes, its header says " + h.fileBytes()
                        + (size < h.fileBytes() ? " (truncated)" : ""));
            }
            return h;
        } catch (RuntimeException e) { // BufferUnderflow, negative sizes, bad geometry
            throw new SegmentFormatException("malformed header: " + e);
        }
    }

    /** Writes header and blocks to a temp file, fsyncs, renames it to {@code target}; returns the file's size. */
    static long write(Path target, Header h, KvAccess kv, int[] blockIds) throws IOException {
        Path tmp = AtomicFiles.tempFor(target);
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeFully(ch, ByteBuffer.wrap(encodeHeader(h)));
            MemorySegment buf = arena.allocate(h.blockBytes(), 64);
            ByteBuffer bb = buf.asByteBuffer();
            ByteBuffer crcBuf = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN);
            CRC32C crc = new CRC32C();
            for (int id : blockIds) {
                kv.copyOut(id, buf);
                bb.clear();
                crc.reset();
                crc.update(bb);
                bb.clear();
                writeFully(ch, bb);
                crcBuf.clear();
                crcBuf.putInt((int) crc.getValue()).flip();
                writeFully(ch, crcBuf);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        AtomicFiles.commit(tmp, target);
        return Files.size(target);
    }

    /** Reads block {@code index} into {@code buf} and checks its CRC32C. */
    static void readBlock(FileChannel ch, Header h, int index, MemorySegment buf) throws IOException {
        ByteBuffer bb = buf.asByteBuffer();
        long off = h.blockOffset(index);
        readFully(ch, bb, off, "block " + index);
        ByteBuffer stored = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN);
        readFully(ch, stored, off + h.blockBytes(), "checksum of block " + index);
        CRC32C crc = new CRC32C();
        bb.flip();
        crc.update(bb);
        if ((int) crc.getValue() != stored.getInt(0)) {
            throw new SegmentFormatException("checksum mismatch in block " + index);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position, String what) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new SegmentFormatException("truncated file: end of file inside the " + what);
            }
            pos += n;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
