package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The CUDA backend's options that need no GPU to check: host memory for the KV pool. */
class CudaOptionsTest {

    @Test
    void hostMemoryForKvComesFromTheOptionOrTheProperty() {
        String before = System.clearProperty(CudaBackend.Options.HOST_KV_PROPERTY);
        try {
            assertEquals(0, CudaBackend.Options.defaults().hostKvBytes());
            System.setProperty(CudaBackend.Options.HOST_KV_PROPERTY, " 2.5 ");
            assertEquals(5L << 29, CudaBackend.Options.defaults().hostKvBytes());
            // every other option keeps it
            CudaBackend.Options o = CudaBackend.Options.defaults().withDevice(1).withKvCapacityTokens(4096)
                    .withBlockSize(16).withMaxChunkTokens(256).withMaxBatch(4).withCudaGraphs(false)
                    .withKeySketches(true).withKvMemoryFraction(0.5);
            assertEquals(5L << 29, o.hostKvBytes());
            assertEquals(7L, o.withHostKvBytes(7).hostKvBytes());
            System.setProperty(CudaBackend.Options.HOST_KV_PROPERTY, "lots");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaBackend.Options::defaults);
            assertTrue(e.getMessage().contains("lots") && e.getMessage().contains(CudaBackend.Options.HOST_KV_PROPERTY),
                    e.getMessage());
            System.setProperty(CudaBackend.Options.HOST_KV_PROPERTY, "-1");
            assertThrows(IllegalArgumentException.class, CudaBackend.Options::defaults);
        } finally {
            if (before == null) {
                System.clearProperty(CudaBackend.Options.HOST_KV_PROPERTY);
            } else {
                System.setProperty(CudaBackend.Options.HOST_KV_PROPERTY, before);
            }
        }
    }

    @Test
    void negativeHostMemoryIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaBackend.Options.defaults().withHostKvBytes(-1));
        assertTrue(e.getMessage().contains("hostKvBytes"), e.getMessage());
    }

    @Test
    void theSpanningRangeRoundsBothPartsToTheGranularity() {
        assertEquals(2L << 20, SpanningRange.roundUp(1, 2L << 20));
        assertEquals(2L << 20, SpanningRange.roundUp(2L << 20, 2L << 20));
        assertEquals(4L << 20, SpanningRange.roundUp((2L << 20) + 1, 2L << 20));
    }

    @Test
    void hostMemoryComesFromWhereTheDriverMapsIt() {
        assertEquals(SpanningRange.LOCATION_HOST, SpanningRange.hostLocation(true, true, 1).type());
        // a CUDA 12 driver: the device's nearest NUMA node, node 0 where there is no NUMA
        assertEquals(SpanningRange.LOCATION_HOST_NUMA, SpanningRange.hostLocation(false, true, 1).type());
        assertEquals(1, SpanningRange.hostLocation(false, true, 1).id());
        assertEquals(0, SpanningRange.hostLocation(false, true, -1).id());
        assertNull(SpanningRange.hostLocation(false, false, 0));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> SpanningRange.map(0, null, 1 << 20, 1 << 20, "the KV pool"));
        assertTrue(e.getMessage().contains("kvHostGib") && e.getMessage().contains("the KV pool"), e.getMessage());
    }
}
