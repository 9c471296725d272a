package dev.tokenselect.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** The structures handed to the driver, laid out as cuda.h declares them (no driver needed). */
class VirtualMemoryCallsTest {

    @Test
    void anAllocationPropertyIsPinnedMemoryAtItsLocationWithEveryOtherByteZero() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = VirtualMemoryCalls.allocationProp(a, SpanningRange.LOCATION_HOST_NUMA, 1);
            assertEquals(32, p.byteSize());
            assertEquals(VirtualMemoryCalls.ALLOCATION_PINNED, p.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0, p.get(ValueLayout.JAVA_INT, 4)); // no shareable handle types
            assertEquals(SpanningRange.LOCATION_HOST_NUMA, p.get(ValueLayout.JAVA_INT, 8));
            assertEquals(1, p.get(ValueLayout.JAVA_INT, 12));
            assertEquals(0L, p.get(ValueLayout.JAVA_LONG, 16)); // win32 metadata
            // compression, RDMA, usage and the four reserved bytes: the driver refuses anything else
            assertEquals(0L, p.get(ValueLayout.JAVA_LONG, 24));
        }
    }

    @Test
    void anAccessDescriptorGivesTheDeviceReadAndWrite() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = VirtualMemoryCalls.readWriteFor(a, 3);
            assertEquals(12, d.byteSize());
            assertEquals(VirtualMemoryCalls.LOCATION_DEVICE, d.get(ValueLayout.JAVA_INT, 0));
            assertEquals(3, d.get(ValueLayout.JAVA_INT, 4));
            assertEquals(VirtualMemoryCalls.ACCESS_READ_WRITE, d.get(ValueLayout.JAVA_INT, 8));
        }
    }
}
