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

    /**
     * The precision the pool keeps K/V at: "fp32" (the CPU pool) or "bf16" (the CUDA pool). Blocks
     * always travel as fp32; a bf16 pool's blocks are exact in fp32, and fp32 blocks copied into it
     * are rounded, so the precision is part of every cache key.
     */
    default String precision() {
        return "fp32";
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

    /**
     * The CUDA backend's device pool: blocks are converted between the pool's bf16 and fp32 on the
     * device and cross PCIe once, so a restore uploads straight into the pool.
     */
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
            MemorySegment.copy(pool.block(blockId), 0, dst, 0, pool.geometry().blockBytes());
        }

        @Override
        public void copyIn(int blockId, MemorySegment src) {
            MemorySegment.copy(src, 0, pool.block(blockId), 0, pool.geometry().blockBytes());
        }
    }
}
