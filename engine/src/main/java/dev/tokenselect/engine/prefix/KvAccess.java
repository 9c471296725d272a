package dev.tokenselect.engine.prefix;

import java.lang.foreign.MemorySegment;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.backend.cuda.CudaBackend;
import dev.tokenselect.engine.backend.cuda.CudaSequence;
import dev.tokenselect.engine.backend.cpu.CpuSequence;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.kv.KvGeometry;
import dev.tokenselect.engine.kv.KvPool;

/**
 * What the prefix cache needs from a backend's paged KV pool: its geometry and allocator, a sequence's
 * block table, and copies of whole blocks to and from host memory (layout of {@link KvGeometry}, at the
 * pool's own precision, native byte order).
 */
public interface KvAccess {

    KvGeometry geometry();

    BlockAllocator allocator();

    BlockTable table(Sequence sequence);

    /** Copies block {@code blockId} into {@code dst} ({@link #blockBytes()} bytes). */
    void copyOut(int blockId, MemorySegment dst);

    /** Overwrites block {@code blockId} with {@code src} ({@link #blockBytes()} bytes). */
    void copyIn(int blockId, MemorySegment src);

    /**
     * The precision the pool keeps K/V at: "fp32" (the CPU pool) or "bf16" (the CUDA pool). Blocks
     * travel at this precision, so it is part of every cache key and of a segment file's header.
     */
    default String precision() {
        return "fp32";
    }

    /** Bytes of one block as it travels: {@link KvGeometry#blockBytes()} in fp32, half of it in bf16. */
    default long blockBytes() {
        long fp32 = geometry().blockBytes();
        return "bf16".equals(precision()) ? fp32 / 2 : fp32;
    }

    /** The segment file dtype of the blocks as they travel. */
    default int segmentDtype() {
        return "bf16".equals(precision()) ? SegmentFile.DTYPE_BF16 : SegmentFile.DTYPE_F32;
    }

    /** The access of a backend's pool (CPU or CUDA). */
    static KvAccess of(Backend backend) {
        if (backend instanceof CpuBackend cpu) {
            return new Cpu(cpu.kvPool());
        }
        if (backend instanceof CudaBackend cuda) {
            return new Cuda(cuda);
        }
        throw new UnsupportedOperationException("the " + backend.name()
                + " backend does not expose its KV pool to the prefix cache");
    }

    /** The CUDA backend's device pool: blocks travel as stored (bf16), so a restore uploads straight into the pool. */
    record Cuda(CudaBackend backend) implements KvAccess {

        @Override
        public KvGeometry geometry() {
            return backend.kvGeometry();
        }

        @Override
        public BlockAllocator allocator() {
            return backend.allocator();
        }

        @Override
        public BlockTable table(Sequence sequence) {
            if (sequence instanceof CudaSequence s) {
                return s.blockTable();
            }
            throw new IllegalArgumentException("not a CUDA sequence: " + sequence);
        }

        @Override
        public void copyOut(int blockId, MemorySegment dst) {
            backend.copyBlockOut(blockId, dst);
        }

        @Override
        public void copyIn(int blockId, MemorySegment src) {
            backend.copyBlockIn(blockId, src);
        }

        @Override
        public String precision() {
            return "bf16";
        }
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
            MemorySegment.copy(pool.block(blockId), 0, dst, 0, blockBytes());
        }

        @Override
        public void copyIn(int blockId, MemorySegment src) {
            MemorySegment.copy(src, 0, pool.block(blockId), 0, blockBytes());
        }
    }
}
