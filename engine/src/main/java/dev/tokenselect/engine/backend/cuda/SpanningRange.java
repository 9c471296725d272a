package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;

/**
 * One virtual address range of device memory followed by pinned host memory, both mapped for one
 * device (cuMemAddressReserve, cuMemCreate, cuMemMap, cuMemSetAccess), so kernels address the two as
 * one array: a KV pool larger than the device, whose blocks past the device part live in host memory
 * and are read over the bus. Sizes round up to the allocation granularity (2 MiB on current GPUs).
 * The driver is called through {@link VirtualMemoryCalls}, not JCuda (whose bindings of these calls
 * pass malformed structures).
 */
final class SpanningRange implements AutoCloseable {

    // cuda.h values JCuda 12.6 has no constants for
    /** {@code CU_MEM_LOCATION_TYPE_HOST}: host memory, no NUMA node named. */
    static final int LOCATION_HOST = 2;
    /** {@code CU_MEM_LOCATION_TYPE_HOST_NUMA}: host memory of one NUMA node. */
    static final int LOCATION_HOST_NUMA = 3;
    /** {@code CU_DEVICE_ATTRIBUTE_HOST_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED} (CUDA 13 drivers). */
    static final int ATTRIBUTE_HOST_VMM = 145;
    /** {@code CU_DEVICE_ATTRIBUTE_HOST_NUMA_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED} (CUDA 12.2 drivers on). */
    static final int ATTRIBUTE_HOST_NUMA_VMM = 141;
    /** {@code CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID}: the host NUMA node nearest the device, -1 without NUMA. */
    static final int ATTRIBUTE_HOST_NUMA_ID = 134;

    /** A memory location as {@code CUmemLocation} names one: its type and its device or NUMA id. */
    record Location(int type, int id) {
    }

    private final long address;
    private final long deviceBytes;
    private final long hostBytes;
    private final List<Long> handles;
    private boolean closed;

    private SpanningRange(long address, long deviceBytes, long hostBytes, List<Long> handles) {
        this.address = address;
        this.deviceBytes = deviceBytes;
        this.hostBytes = hostBytes;
        this.handles = handles;
    }

    /** {@code bytes} rounded up to a multiple of {@code granularity}. */
    static long roundUp(long bytes, long granularity) {
        return (bytes + granularity - 1) / granularity * granularity;
    }

    /**
     * Maps at least {@code deviceBytes} of device memory, then at least {@code hostBytes} of pinned host
     * memory at {@code hostLocation} (null where the device cannot map host memory so;
     * {@link #hostLocation}), for device {@code ordinal}. Errors name the part that failed and what to
     * change; nothing stays mapped after one.
     */
    static SpanningRange map(int ordinal, Location hostLocation, long deviceBytes, long hostBytes, String what) {
        if (hostLocation == null) {
            throw new CudaUnavailableException("host memory for " + what + " needs a driver and device that map host"
                    + " memory with the virtual memory management API (CUDA 12.2 or later, Linux): device " + ordinal
                    + " does not; leave the host KV memory at 0 (-Dtokenselect.cuda.kvHostGib, --kv-host-gib)");
        }
        long granularity = Math.max(VirtualMemoryCalls.granularity(VirtualMemoryCalls.LOCATION_DEVICE, ordinal),
                VirtualMemoryCalls.granularity(hostLocation.type(), hostLocation.id()));
        long dev = roundUp(Math.max(deviceBytes, 1), granularity);
        long host = roundUp(Math.max(hostBytes, 1), granularity);
        long address = 0;
        List<Long> handles = new ArrayList<>();
        long mapped = 0;
        try {
            address = VirtualMemoryCalls.reserve(dev + host, granularity);
            handles.add(create(dev, VirtualMemoryCalls.LOCATION_DEVICE, ordinal, "device", what));
            VirtualMemoryCalls.map(address, dev, handles.get(0));
            mapped = dev;
            handles.add(create(host, hostLocation.type(), hostLocation.id(), "pinned host", what));
            VirtualMemoryCalls.map(address + dev, host, handles.get(1));
            mapped += host;
            VirtualMemoryCalls.setReadWrite(address, dev + host, ordinal);
            return new SpanningRange(address, dev, host, handles);
        } catch (RuntimeException e) {
            release(address, address != 0 ? dev + host : 0, mapped, handles);
            throw e;
        }
    }

    /**
     * Where pinned host memory for a device-mapped range comes from, given the device's answers to
     * {@link #ATTRIBUTE_HOST_VMM}, {@link #ATTRIBUTE_HOST_NUMA_VMM} and {@link #ATTRIBUTE_HOST_NUMA_ID}:
     * host memory where the driver maps it as such, else the device's nearest NUMA node (0 without
     * NUMA), else null.
     */
    static Location hostLocation(boolean hostVmm, boolean hostNumaVmm, int numaId) {
        if (hostVmm) {
            return new Location(LOCATION_HOST, 0);
        }
        return hostNumaVmm ? new Location(LOCATION_HOST_NUMA, Math.max(numaId, 0)) : null;
    }

    private static long create(long bytes, int locationType, int id, String where, String what) {
        try {
            return VirtualMemoryCalls.create(bytes, locationType, id);
        } catch (CudaException e) {
            throw new CudaException(String.format(Locale.ROOT, "%,d bytes of %s memory for %s could not be allocated"
                    + " (%s); ask for less (-Dtokenselect.cuda.kvHostGib, --kv-host-gib, or the KV memory fraction)",
                    bytes, where, what, e.getMessage()), e);
        }
    }

    private static void release(long address, long reservedBytes, long mappedBytes, List<Long> handles) {
        try {
            if (mappedBytes > 0) {
                VirtualMemoryCalls.unmap(address, mappedBytes);
            }
        } catch (RuntimeException ignored) {
            // keep releasing the rest
        }
        for (long h : handles) {
            try {
                VirtualMemoryCalls.release(h);
            } catch (RuntimeException ignored) {
                // keep releasing the rest
            }
        }
        try {
            if (reservedBytes > 0) {
                VirtualMemoryCalls.free(address, reservedBytes);
            }
        } catch (RuntimeException ignored) {
            // nothing left to release
        }
    }

    /** The start of the range: device memory for {@link #deviceBytes}, host memory after it. */
    CUdeviceptr base() {
        return new CUdeviceptr().withByteOffset(address);
    }
    long deviceBytes() {
        return deviceBytes;
    }

    long hostBytes() {
        return hostBytes;
    }

    /** Unmaps and frees both parts. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release(address, deviceBytes + hostBytes, deviceBytes + hostBytes, handles);
        }
    }
}
