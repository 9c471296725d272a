package dev.tokenselect.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

import jcuda.CudaException;

/**
 * The driver's virtual memory management calls (cuMemAddressReserve, cuMemCreate, cuMemMap,
 * cuMemSetAccess and their releases), called on {@code libcuda} directly through the foreign function
 * API. JCuda 12.6's bindings of these pass structures the driver refuses: its {@code CUmemAllocationProp}
 * reads the allocation flags from the wrong Java object and leaves their reserved bytes uninitialised,
 * and its {@code CUmemAccessDesc} reads the location from the descriptor instead of the location; the
 * driver answers CUDA_ERROR_INVALID_VALUE. Here each structure is laid out in zeroed native memory
 * as {@code cuda.h} declares it.
 */
final class VirtualMemoryCalls {

    /** {@code CU_MEM_ALLOCATION_TYPE_PINNED}. */
    static final int ALLOCATION_PINNED = 1;
    /** {@code CU_MEM_LOCATION_TYPE_DEVICE}. */
    static final int LOCATION_DEVICE = 1;
    /** {@code CU_MEM_ACCESS_FLAGS_PROT_READWRITE}. */
    static final int ACCESS_READ_WRITE = 3;

    /** {@code sizeof(CUmemAllocationProp)}: type, handle types, location (type, id), win32 pointer, flags. */
    static final long PROP_BYTES = 32;
    /** {@code sizeof(CUmemAccessDesc)}: location (type, id), flags. */
    static final long ACCESS_DESC_BYTES = 12;

    private static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;

    private VirtualMemoryCalls() {
    }

    /** The downcalls, bound on first use (the structure layouts above need no driver). */
    private static final class Driver {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final SymbolLookup CUDA = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());

        static final MethodHandle ADDRESS_RESERVE = call("cuMemAddressReserve",
                ValueLayout.ADDRESS, SIZE_T, SIZE_T, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        static final MethodHandle ADDRESS_FREE = call("cuMemAddressFree", ValueLayout.JAVA_LONG, SIZE_T);
        static final MethodHandle CREATE = call("cuMemCreate",
                ValueLayout.ADDRESS, SIZE_T, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
        static final MethodHandle RELEASE = call("cuMemRelease", ValueLayout.JAVA_LONG);
        static final MethodHandle MAP = call("cuMemMap",
                ValueLayout.JAVA_LONG, SIZE_T, SIZE_T, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        static final MethodHandle UNMAP = call("cuMemUnmap", ValueLayout.JAVA_LONG, SIZE_T);
        static final MethodHandle SET_ACCESS = call("cuMemSetAccess",
                ValueLayout.JAVA_LONG, SIZE_T, ValueLayout.ADDRESS, SIZE_T);
        static final MethodHandle GRANULARITY = call("cuMemGetAllocationGranularity",
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

        private static MethodHandle call(String name, MemoryLayout... args) {
            MemorySegment symbol = CUDA.find(name).orElseThrow(() -> new CudaUnavailableException(
                    "the CUDA driver library has no " + name + " (drivers for CUDA 10.2 and later have it)"));
            return LINKER.downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT, args));
        }
    }

    /** A zeroed {@code CUmemAllocationProp} for pinned memory at location ({@code locationType}, {@code id}). */
    static MemorySegment allocationProp(Arena arena, int locationType, int id) {
        MemorySegment p = arena.allocate(PROP_BYTES, 8); // zeroed: no handle types, no flags
        p.set(ValueLayout.JAVA_INT, 0, ALLOCATION_PINNED);
        p.set(ValueLayout.JAVA_INT, 8, locationType);
        p.set(ValueLayout.JAVA_INT, 12, id);
        return p;
    }

    /** A {@code CUmemAccessDesc} giving device {@code ordinal} read and write access. */
    static MemorySegment readWriteFor(Arena arena, int ordinal) {
        MemorySegment d = arena.allocate(ACCESS_DESC_BYTES, 4);
        d.set(ValueLayout.JAVA_INT, 0, LOCATION_DEVICE);
        d.set(ValueLayout.JAVA_INT, 4, ordinal);
        d.set(ValueLayout.JAVA_INT, 8, ACCESS_READ_WRITE);
        return d;
    }

    /** The minimum granularity of allocations at ({@code locationType}, {@code id}). */
    static long granularity(int locationType, int id) {
        return invokeForLong("cuMemGetAllocationGranularity", (a, out) -> (int) Driver.GRANULARITY.invokeExact(out,
                allocationProp(a, locationType, id), 0));
    }

    /** Reserves {@code bytes} of device address space aligned to {@code alignment}; returns its start. */
    static long reserve(long bytes, long alignment) {
        return invokeForLong("cuMemAddressReserve",
                (a, out) -> (int) Driver.ADDRESS_RESERVE.invokeExact(out, bytes, alignment, 0L, 0L));
    }

    /** Allocates {@code bytes} of pinned memory at ({@code locationType}, {@code id}); returns its handle. */
    static long create(long bytes, int locationType, int id) {
        return invokeForLong("cuMemCreate", (a, out) -> (int) Driver.CREATE.invokeExact(out, bytes,
                allocationProp(a, locationType, id), 0L));
    }

    static void map(long address, long bytes, long handle) {
        invoke("cuMemMap", () -> (int) Driver.MAP.invokeExact(address, bytes, 0L, handle, 0L));
    }

    /** Gives device {@code ordinal} read and write access to {@code bytes} at {@code address}. */
    static void setReadWrite(long address, long bytes, int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = readWriteFor(a, ordinal);
            invoke("cuMemSetAccess", () -> (int) Driver.SET_ACCESS.invokeExact(address, bytes, desc, 1L));
        }
    }

    static void unmap(long address, long bytes) {
        invoke("cuMemUnmap", () -> (int) Driver.UNMAP.invokeExact(address, bytes));
    }

    static void release(long handle) {
        invoke("cuMemRelease", () -> (int) Driver.RELEASE.invokeExact(handle));
    }

    static void free(long address, long bytes) {
        invoke("cuMemAddressFree", () -> (int) Driver.ADDRESS_FREE.invokeExact(address, bytes));
    }

    private interface NativeCall {
        int call() throws Throwable;
    }

    /** A call that writes one 64-bit result (a size_t, an address or a handle) to {@code out}. */
    private interface NativeCallWithResult {
        int call(Arena arena, MemorySegment out) throws Throwable;
    }

    private static long invokeForLong(String name, NativeCallWithResult c) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
            invoke(name, () -> c.call(a, out));
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    private static void invoke(String name, NativeCall c) {
        int result;
        try {
            result = c.call();
        } catch (Throwable t) {
            throw new IllegalStateException(name + " could not be called", t);
        }
        check(name, result);
    }

    private static void check(String name, int result) {
        if (result != 0) {
            throw new CudaException(String.format(Locale.ROOT, "%s failed: %s", name,
                    jcuda.driver.CUresult.stringFor(result)));
        }
    }
}
