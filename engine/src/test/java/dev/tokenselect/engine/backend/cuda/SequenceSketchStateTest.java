package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.select.AttentionPolicy;
import dev.tokenselect.engine.select.AttentionSpec;

/** Which tokens of a sequence have current int8 key sketches per layer, as its table is cut and regrown. */
class SequenceSketchStateTest {

    private static CudaSequence sequence(BlockAllocator pool) {
        AttentionPolicy policy = AttentionSpec.full().newPolicy(null, 2, 512);
        return new CudaSequence(null, new BlockTable(pool), policy);
    }

    @Test
    void aCutForgetsTheSketchesOfEveryLayerPastIt() {
        CudaSequence seq = sequence(new BlockAllocator(16, 8, null));
        BlockTable t = seq.blockTable();
        t.reserve(40);
        t.setLength(40);
        assertEquals(0, seq.sketchedTo(0), "a new sequence has no sketches");
        seq.sketched(0, 40);
        seq.sketched(1, 24);
        assertEquals(40, seq.sketchedTo(0));
        assertEquals(24, seq.sketchedTo(1));
        assertEquals(0, seq.sketchedTo(5), "layers never sketched");
        t.truncate(30); // a rollback: rows from 30 on are written again below
        t.reserve(45);
        t.setLength(45);
        assertEquals(30, seq.sketchedTo(0));
        assertEquals(24, seq.sketchedTo(1), "below the cut the layer is as it was");
        seq.sketched(0, 45);
        assertEquals(45, seq.sketchedTo(0), "the cut was applied once, not again after new sketches");
    }

    @Test
    void aCutSeenThroughOneLayerIsNotLostForTheOthers() {
        CudaSequence seq = sequence(new BlockAllocator(16, 8, null));
        BlockTable t = seq.blockTable();
        t.reserve(64);
        t.setLength(64);
        seq.sketched(0, 64);
        seq.sketched(1, 64);
        t.truncate(10);
        seq.sketched(0, 10); // layer 0 brought up to date first
        assertEquals(10, seq.sketchedTo(1));
    }

    @Test
    void sketchingEveryLayerAtOnceStillAppliesAPendingCut() {
        CudaSequence seq = sequence(new BlockAllocator(16, 8, null));
        BlockTable t = seq.blockTable();
        t.reserve(64);
        t.setLength(64);
        seq.sketchedAll(3, 64);
        assertEquals(64, seq.sketchedTo(2));
        t.truncate(20);
        seq.sketchedAll(3, 21); // the step after the cut sketched its own key on every layer
        for (int l = 0; l < 3; l++) {
            assertEquals(21, seq.sketchedTo(l));
        }
        assertEquals(Integer.MAX_VALUE, t.unchangedBelow(), "the cut was taken into account");
    }
}
