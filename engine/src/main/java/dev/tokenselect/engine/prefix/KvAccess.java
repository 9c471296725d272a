package dev.tokenselect.engine.prefix;

import java.lang.foreign.MemorySegment;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.backend.cpu.CpuSequence;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.kv.KvGeometry;
import dev.tokenselect.engine.kv.KvPool;

/**
 * What the prefix cache needs from a backend's paged KV pool: its geometry and allocator, a sequence's
 * block table, and copies of whole blocks to and from host memory (layout of {@link KvGeometry}, fp32,
 * native byte order).
 */
public interface KvAccess {

    KvGeometry geometry();

    BlockAllocator allocator();

    BlockTable table(Sequence sequence);

    /** Copies block {@code blockId} into {@code dst} ({@link KvGeometry#blockBytes()} bytes). */
    void copyOut(int blockId, MemorySegment dst);

    /** Overwrites block {@code blockId} with {@code src} ({@link KvGeometry#blockBytes()} bytes). */
    void copyIn(int blockId, MemorySegment src);

    /** The access of a backend that supports prefix caching (the CPU backend). */
    static KvAccess of(Backend backend) {
        if (backend instanceof CpuBackend cpu) {
            return new Cpu(cpu.kvPool());
        }
        throw new UnsupportedOperationException("the " + backend.name()
                + " backend does not expose its KV pool to the prefix cache yet");
    }

    /** The CPU backend's host pool. */
    record Cpu(KvPool pool) implements KvAccess {

        @Override
        public KvGeometry geometry() {
            return pool.geometry();
        }

        @Override
        public BlockAllocator allocator() {
            return pool.allocator();
        }

        @Override
        public BlockTable table(Sequence sequence) {
            if (sequence instanceof CpuSequence s) {
                return s.blockTable();
            }
            throw new IllegalArgumentException("not a CPU sequence: " + sequence);
        }

        @Override
        public void copyOut(int blockId, MemorySegment dst) {
            MemorySegment.copy(pool.block(blockId), 0, dst, 0, pool.geometry().blockBytes());
        }

        @Override
        public void copyIn(int blockId, MemorySegment src) {
            MemorySegment.copy(src, 0, pool.block(blockId), 0, pool.geometry().blockBytes());
        }
    }
}
