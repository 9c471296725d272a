package dev.tokenselect.engine.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CandidatesTest {

    @Test
    void theBestIdsOfARowTakeTheLowerIdOnATie() {
        float[] row = {1f, 3f, 2f, 3f, -1f, 3f};
        Candidates best = Candidates.best(row, 3);
        assertArrayEquals(new int[] {1, 3, 5}, best.ids());
        assertArrayEquals(new float[] {3f, 3f, 3f}, best.logits());
        Candidates two = Candidates.best(row, 2);
        assertArrayEquals(new int[] {1, 3}, two.ids(), "of three equal logits, the two lower ids");
        assertEquals(6, Candidates.best(row, 50).size(), "k past the row takes the whole row");
        assertArrayEquals(new int[] {1, 3, 5, 2, 0, 4}, Candidates.best(row, 50).ids());
    }

    @Test
    void idsAndLogitsMustPair() {
        assertThrows(IllegalArgumentException.class, () -> new Candidates(new int[] {1, 2}, new float[] {1f}));
    }
}
