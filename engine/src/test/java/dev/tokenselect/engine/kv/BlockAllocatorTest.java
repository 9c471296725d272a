package dev.tokenselect.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.backend.KvCapacityException;

class BlockAllocatorTest {

    @Test
    void handsOutLowestIdsFirstAndReusesReleasedBlocks() {
        List<Integer> materialized = new ArrayList<>();
        BlockAllocator a = new BlockAllocator(4, 16, materialized::add);
        assertEquals(64, a.capacityTokens());
        assertArrayEquals(new int[] {0, 1}, a.allocate(2, 32));
        assertArrayEquals(new int[] {2}, a.allocate(1, 48));
        assertEquals(1, a.freeBlocks());
        assertEquals(3, a.usedBlocks());
        a.release(1);
        assertEquals(0, a.refCount(1));
        assertEquals(2, a.freeBlocks());
        // the released block comes back before the never-used one
        assertArrayEquals(new int[] {1}, a.allocate(1, 16));
        assertEquals(List.of(0, 1, 2), materialized);
        assertEquals(3, a.materializedBlocks());
    }

    @Test
    void referenceCountsKeepSharedBlocksInUse() {
        BlockAllocator a = new BlockAllocator(2, 8, null);
        int id = a.allocate(1, 8)[0];
        a.retain(id);
        assertEquals(2, a.refCount(id));
        a.release(id);
        assertEquals(1, a.refCount(id));
        assertEquals(1, a.freeBlocks());
        a.release(id);
        assertEquals(0, a.refCount(id));
        assertEquals(2, a.freeBlocks());
        assertThrows(IllegalStateException.class, () -> a.release(id));
        assertThrows(IllegalStateException.class, () -> a.retain(id));
    }

    @Test
    void capacityErrorChangesNothingAndSaysHowToFixIt() {
        List<Integer> materialized = new ArrayList<>();
        BlockAllocator a = new BlockAllocator(3, 32, materialized::add);
        a.allocate(2, 64);
        KvCapacityException e = assertThrows(KvCapacityException.class, () -> a.allocate(2, 128));
        assertEquals(1, a.freeBlocks());
        assertEquals(List.of(0, 1), materialized);
        String m = e.getMessage();
        assertTrue(m.contains("128 tokens"), m);
        assertTrue(m.contains("capacity 96 tokens"), m);
        assertTrue(m.contains("block size 32"), m);
        assertTrue(m.contains("Raise the KV capacity option"), m);
        assertArrayEquals(new int[] {2}, a.allocate(1, 96));
    }

    @Test
    void closedAllocatorRefusesAllocationAndIgnoresReleases() {
        BlockAllocator a = new BlockAllocator(2, 8, null);
        int id = a.allocate(1, 8)[0];
        a.close();
        a.release(id);
        assertThrows(IllegalStateException.class, () -> a.allocate(1, 8));
    }

    @Test
    void preferredBlocksGoFirstReleasedOrFreshBeforeAnyOther() {
        // blocks 0..2 preferred (device memory), 3..5 the others (host memory)
        BlockAllocator a = new BlockAllocator(6, 3, 16, null);
        assertEquals(3, a.preferredBlocks());
        assertArrayEquals(new int[] {0, 1, 2, 3}, a.allocate(4, 64));
        assertEquals(3, a.usedPreferredBlocks());
        a.release(3);
        a.release(1);
        assertEquals(2, a.usedPreferredBlocks());
        // the released preferred block first, then the released other one (no fresh preferred is left)
        assertArrayEquals(new int[] {1, 3}, a.allocate(2, 32));
        a.release(0);
        a.release(3);
        // preferred released, then the other released, then never used: 0, 3, 4
        assertArrayEquals(new int[] {0, 3, 4}, a.allocate(3, 48));
        assertEquals(1, a.freeBlocks());
        assertEquals(5, a.usedBlocks());
    }

    @Test
    void aReleasedPreferredBlockComesBeforeAReleasedOtherOneWhicheverWasReleasedLast() {
        BlockAllocator a = new BlockAllocator(8, 4, 16, null);
        assertArrayEquals(new int[] {0, 1}, a.allocate(2, 32));
        // the last two preferred blocks, then the first other one
        assertArrayEquals(new int[] {2, 3, 4}, a.allocate(3, 80));
        a.release(4);
        a.release(2);
        assertArrayEquals(new int[] {2, 4}, a.allocate(2, 32));
        assertEquals(4, a.usedPreferredBlocks());
    }

    @Test
    void thePreferredCountMustFitThePool() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BlockAllocator(4, 5, 16, null));
        assertTrue(e.getMessage().contains("preferred"), e.getMessage());
        assertEquals(4, new BlockAllocator(4, 16, null).preferredBlocks());
    }
}
