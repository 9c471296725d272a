package dev.tokenselect.engine.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.backend.KvCapacityException;

class BlockTableTest {

    @Test
    void reservesWholeBlocksAndMapsPositionsToSlots() {
        BlockAllocator a = new BlockAllocator(8, 4, null);
        BlockTable t = new BlockTable(a);
        t.reserve(5);
        assertEquals(2, t.numBlocks());
        assertEquals(8, t.capacity());
        assertEquals(0, t.length());
        t.setLength(5);
        t.reserve(8); // fits in the blocks held
        assertEquals(2, t.numBlocks());
        t.reserve(9);
        assertArrayEquals(new int[] {0, 1, 2}, t.blockIds());
        assertEquals(1, t.blockOf(5));
        assertEquals(1, t.slotOf(5));
        assertEquals(2, t.blockOf(8));
        assertEquals(0, t.slotOf(8));
        assertThrows(IllegalArgumentException.class, () -> t.setLength(13));
    }

    @Test
    void capacityErrorLeavesTableAndPoolUnchanged() {
        BlockAllocator a = new BlockAllocator(3, 4, null);
        BlockTable other = new BlockTable(a);
        other.reserve(4);
        BlockTable t = new BlockTable(a);
        t.reserve(6);
        t.setLength(6);
        KvCapacityException e = assertThrows(KvCapacityException.class, () -> t.reserve(13));
        assertEquals(6, t.length());
        assertEquals(2, t.numBlocks());
        assertEquals(0, a.freeBlocks());
        assertEquals(true, e.getMessage().contains("13 tokens"));
        other.close();
        t.reserve(12);
        assertEquals(3, t.numBlocks());
    }

    @Test
    void truncateAndCloseReturnBlocks() {
        BlockAllocator a = new BlockAllocator(4, 4, null);
        BlockTable t = new BlockTable(a);
        t.reserve(16);
        t.setLength(10);
        assertEquals(0, a.freeBlocks());
        t.truncate(5);
        assertEquals(5, t.length());
        assertEquals(2, t.numBlocks());
        assertEquals(2, a.freeBlocks());
        t.close();
        t.close(); // idempotent
        assertEquals(4, a.freeBlocks());
        assertThrows(IllegalStateException.class, () -> t.reserve(1));
    }

    @Test
    void unchangedBelowRemembersTheShortestCutSinceTheMark() {
        BlockAllocator a = new BlockAllocator(8, 4, null);
        BlockTable t = new BlockTable(a);
        t.reserve(20);
        t.setLength(12);
        assertEquals(Integer.MAX_VALUE, t.unchangedBelow(), "appending cuts nothing");
        t.truncate(9);
        t.reserve(20);
        t.setLength(20);
        t.truncate(15);
        assertEquals(9, t.unchangedBelow(), "rows from 9 on were written again since");
        t.markUnchanged();
        assertEquals(Integer.MAX_VALUE, t.unchangedBelow());
        t.setLength(7); // a rollback by length alone cuts too
        assertEquals(7, t.unchangedBelow());
        t.markUnchanged();
        t.truncate(30); // longer than the table: nothing cut
        assertEquals(Integer.MAX_VALUE, t.unchangedBelow());
    }

    @Test
    void sharedBlocksAreReferenceCounted() {
        BlockAllocator a = new BlockAllocator(4, 4, null);
        BlockTable first = new BlockTable(a);
        first.reserve(8);
        first.setLength(8);
        BlockTable second = new BlockTable(a);
        second.appendShared(first.blockId(0));
        second.appendShared(first.blockId(1));
        assertEquals(8, second.length());
        assertEquals(2, a.refCount(first.blockId(0)));
        first.close();
        assertEquals(1, a.refCount(second.blockId(0)));
        assertEquals(2, a.freeBlocks());
        second.close();
        assertEquals(4, a.freeBlocks());
    }
}
