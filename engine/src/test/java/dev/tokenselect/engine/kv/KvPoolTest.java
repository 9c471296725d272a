package dev.tokenselect.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.backend.KvCapacityException;

class KvPoolTest {

    private static final int LAYERS = 3;
    private static final int HEADS = 2;
    private static final int DIM = 8;
    private static final int BLOCK = 4;

    private static float[] row(int layer, int head, int position, int kv) {
        float[] r = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            r[i] = kv * 100_000 + layer * 10_000 + head * 1000 + position * 10 + i;
        }
        return r;
    }

    @Test
    void rowsLandAtLayerHeadSlotOffsetsOfTheirBlock() {
        KvGeometry g = new KvGeometry(LAYERS, HEADS, DIM, BLOCK);
        assertEquals(2L * LAYERS * HEADS * BLOCK * DIM * 4, g.blockBytes());
        try (KvPool pool = new KvPool(g, 64)) {
            BlockTable other = pool.newTable();
            other.reserve(4); // takes block 0, so the table below starts at block 1
            BlockTable t = pool.newTable();
            t.reserve(10);
            assertArrayEquals(new int[] {1, 2, 3}, t.blockIds());
            for (int p = 0; p < 10; p++) {
                for (int l = 0; l < LAYERS; l++) {
                    for (int h = 0; h < HEADS; h++) {
                        pool.writeKey(t, l, h, p, row(l, h, p, 0), 0);
                        pool.writeValue(t, l, h, p, row(l, h, p, 1), 0);
                    }
                }
            }
            t.setLength(10);
            // [layer][K|V][kvHead][slot][headDim], fp32
            for (int p = 0; p < 10; p++) {
                MemorySegment block = pool.block(t.blockIds()[p / BLOCK]);
                int slot = p % BLOCK;
                for (int l = 0; l < LAYERS; l++) {
                    for (int h = 0; h < HEADS; h++) {
                        long k = ((((2L * l) * HEADS + h) * BLOCK + slot) * DIM) * 4;
                        long v = ((((2L * l + 1) * HEADS + h) * BLOCK + slot) * DIM) * 4;
                        assertEquals(k, g.keyOffset(l, h, slot));
                        assertEquals(v, g.valueOffset(l, h, slot));
                        float[] key = new float[DIM];
                        float[] value = new float[DIM];
                        MemorySegment.copy(block, KvPool.FLOAT, k, key, 0, DIM);
                        MemorySegment.copy(block, KvPool.FLOAT, v, value, 0, DIM);
                        assertArrayEquals(row(l, h, p, 0), key);
                        assertArrayEquals(row(l, h, p, 1), value);
                        float[] read = new float[DIM];
                        pool.readKey(t, l, h, p, read, 0);
                        assertArrayEquals(key, read);
                    }
                }
            }
            // block 0 of the other table was not touched
            float[] untouched = new float[DIM];
            MemorySegment.copy(pool.block(0), KvPool.FLOAT, 0, untouched, 0, DIM);
            assertArrayEquals(new float[DIM], untouched);
        }
    }

    @Test
    void memoryIsTakenOnFirstUseOnly() {
        KvGeometry g = new KvGeometry(LAYERS, HEADS, DIM, BLOCK);
        // 2^32 tokens of capacity cost nothing until used (neither memory nor bookkeeping)
        try (KvPool pool = new KvPool(g, 1L << 32)) {
            assertEquals(0, pool.bytesAllocated());
            BlockTable t = pool.newTable();
            t.reserve(8);
            assertEquals(2 * g.blockBytes(), pool.bytesAllocated());
            t.close();
            BlockTable u = pool.newTable();
            u.reserve(5);
            assertEquals(2 * g.blockBytes(), pool.bytesAllocated());
        }
    }

    @Test
    void overflowIsReportedInTokensAndBlocks() {
        try (KvPool pool = new KvPool(new KvGeometry(1, 1, 4, 32), 100)) {
            assertEquals(4, pool.allocator().numBlocks()); // ceil(100 / 32)
            BlockTable t = pool.newTable();
            KvCapacityException e = assertThrows(KvCapacityException.class, () -> t.reserve(200));
            assertEquals(0, t.numBlocks());
            assertEquals(0, pool.bytesAllocated());
            String m = e.getMessage();
            assertEquals(true, m.contains("200 tokens") && m.contains("capacity 128 tokens")
                    && m.contains("block size 32") && m.contains("kvCapacityTokens"), m);
        }
    }

    @Test
    void closingThePoolMakesLateSequenceClosesHarmless() {
        KvPool pool = new KvPool(new KvGeometry(1, 1, 4, 4), 16);
        BlockTable t = pool.newTable();
        t.reserve(4);
        pool.close();
        pool.close();
        t.close();
    }
}
