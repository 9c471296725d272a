package dev.tokenselect.engine.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAddressFree;
import static jcuda.driver.JCudaDriver.cuMemAddressReserve;
import static jcuda.driver.JCudaDriver.cuMemCreate;
import static jcuda.driver.JCudaDriver.cuMemGetAllocationGranularity;
import static jcuda.driver.JCudaDriver.cuMemMap;
import static jcuda.driver.JCudaDriver.cuMemRelease;
import static jcuda.driver.JCudaDriver.cuMemSetAccess;
import static jcuda.driver.JCudaDriver.cuMemUnmap;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmemAccessDesc;
import jcuda.driver.CUmemAccess_flags;
import jcuda.driver.CUmemAllocationGranularity_flags;
import jcuda.driver.CUmemAllocationProp;
import jcuda.driver.CUmemAllocationType;
import jcuda.driver.CUmemGenericAllocationHandle;
import jcuda.driver.CUmemLocation;
import jcuda.driver.CUmemLocationType;

/**
 * One virtual address range of device memory followed by pinned host memory, both mapped for one
 * device (cuMemAddressReserve, cuMemCreate, cuMemMap, cuMemSetAccess), so kernels address the two as
 * one array: a KV pool larger than the device, whose blocks past the device part live in host memory
 * and are read over the bus. Sizes round up to the allocation granularity (2 MiB on current GPUs).
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

    private final CUdeviceptr base;
    private final long deviceBytes;
    private final long hostBytes;
    private final List<CUmemGenericAllocationHandle> handles;
    private boolean closed;

    private SpanningRange(CUdeviceptr base, long deviceBytes, long hostBytes, List<CUmemGenericAllocationHandle> handles) {
        this.base = base;
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
    static SpanningRange map(int ordinal, CUmemLocation hostLocation, long deviceBytes, long hostBytes, String what) {
        if (hostLocation == null) {
            throw new CudaUnavailableException("host memory for " + what + " needs a driver and device that map host"
                    + " memory with the virtual memory management API (CUDA 12.2 or later, Linux): device " + ordinal
                    + " does not; leave the host KV memory at 0 (-Dtokenselect.cuda.kvHostGib, --kv-host-gib)");
        }
        CUmemAllocationProp onDevice = prop(CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE, ordinal);
        CUmemAllocationProp onHost = prop(hostLocation.type, hostLocation.id);
        long granularity = Math.max(granularity(onDevice), granularity(onHost));
        long dev = roundUp(Math.max(deviceBytes, 1), granularity);
        long host = roundUp(Math.max(hostBytes, 1), granularity);
        CUdeviceptr base = new CUdeviceptr();
        List<CUmemGenericAllocationHandle> handles = new ArrayList<>();
        boolean reserved = false;
        long mapped = 0;
        try {
            cuMemAddressReserve(base, dev + host, granularity, new CUdeviceptr(), 0);
            reserved = true;
            handles.add(create(dev, onDevice, "device", what));
            cuMemMap(base, dev, 0, handles.get(0), 0);
            mapped = dev;
            handles.add(create(host, onHost, "pinned host", what));
            cuMemMap(base.withByteOffset(dev), host, 0, handles.get(1), 0);
            mapped += host;
            CUmemAccessDesc access = new CUmemAccessDesc(
                    new CUmemLocation(CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE, ordinal),
                    CUmemAccess_flags.CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
            cuMemSetAccess(base, dev + host, new CUmemAccessDesc[] {access}, 1);
            return new SpanningRange(base, dev, host, handles);
        } catch (RuntimeException e) {
            release(base, reserved ? dev + host : 0, mapped, handles);
            throw e;
        }
    }

    /**
     * Where pinned host memory for a device-mapped range comes from, given the device's answers to
     * {@link #ATTRIBUTE_HOST_VMM}, {@link #ATTRIBUTE_HOST_NUMA_VMM} and {@link #ATTRIBUTE_HOST_NUMA_ID}:
     * host memory where the driver maps it as such, else the device's nearest NUMA node (0 without
     * NUMA), else null.
     */
    static CUmemLocation hostLocation(boolean hostVmm, boolean hostNumaVmm, int numaId) {
        if (hostVmm) {
            return new CUmemLocation(LOCATION_HOST, 0);
        }
        return hostNumaVmm ? new CUmemLocation(LOCATION_HOST_NUMA, Math.max(numaId, 0)) : null;
    }

    private static CUmemAllocationProp prop(int locationType, int id) {
        CUmemAllocationProp p = new CUmemAllocationProp();
        p.type = CUmemAllocationType.CU_MEM_ALLOCATION_TYPE_PINNED;
        p.location = new CUmemLocation(locationType, id);
        return p;
    }

    private static long granularity(CUmemAllocationProp p) {
        long[] g = new long[1];
        cuMemGetAllocationGranularity(g, p, CUmemAllocationGranularity_flags.CU_MEM_ALLOC_GRANULARITY_MINIMUM);
        return Math.max(g[0], 1);
    }

    private static CUmemGenericAllocationHandle create(long bytes, CUmemAllocationProp p, String where, String what) {
        CUmemGenericAllocationHandle h = new CUmemGenericAllocationHandle();
        try {
            cuMemCreate(h, bytes, p, 0);
        } catch (CudaException e) {
            throw new CudaException(String.format(Locale.ROOT, "%,d bytes of %s memory for %s could not be allocated"
                    + " (%s); ask for less (-Dtokenselect.cuda.kvHostGib, --kv-host-gib, or the KV memory fraction)",
                    bytes, where, what, e.getMessage()), e);
        }
        return h;
    }

    private static void release(CUdeviceptr base, long reservedBytes, long mappedBytes,
                                List<CUmemGenericAllocationHandle> handles) {
        try {
            if (mappedBytes > 0) {
                cuMemUnmap(base, mappedBytes);
            }
        } catch (CudaException ignored) {
            // keep releasing the rest
        }
        for (CUmemGenericAllocationHandle h : handles) {
            try {
                cuMemRelease(h);
            } catch (CudaException ignored) {
                // keep releasing the rest
            }
        }
        try {
            if (reservedBytes > 0) {
                cuMemAddressFree(base, reservedBytes);
            }
        } catch (CudaException ignored) {
            // nothing left to release
        }
    }

    /** The start of the range: device memory for {@link #deviceBytes}, host memory after it. */
    CUdeviceptr base() {
        return base;
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
            release(base, deviceBytes + hostBytes, deviceBytes + hostBytes, handles);
        }
    }
}
