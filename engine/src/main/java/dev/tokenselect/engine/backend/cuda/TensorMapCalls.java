package dev.tokenselect.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * The driver's {@code cuTensorMapEncodeTiled}, called on {@code libcuda} through the foreign function
 * API (JCuda 12.6 has no binding): the 128-byte descriptor a kernel's tensor copies
 * ({@code cp.async.bulk.tensor}) read their source region, box and shared-memory swizzle from. It is
 * passed to the kernel by value, as a {@code __grid_constant__} parameter.
 */
final class TensorMapCalls {

    /** {@code sizeof(CUtensorMap)}. */
    static final int BYTES = 128;
    /** {@code CU_TENSOR_MAP_DATA_TYPE_BFLOAT16}. */
    static final int DATA_TYPE_BFLOAT16 = 9;
    /** {@code CU_TENSOR_MAP_INTERLEAVE_NONE}. */
    static final int INTERLEAVE_NONE = 0;
    /** {@code CU_TENSOR_MAP_SWIZZLE_128B}: 16-byte chunk c of a 128-byte row r lands at chunk c ^ (r % 8). */
    static final int SWIZZLE_128B = 3;
    /** {@code CU_TENSOR_MAP_L2_PROMOTION_L2_256B}. */
    static final int L2_PROMOTION_256B = 3;
    /** {@code CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE}. */
    static final int OOB_FILL_NONE = 0;

    private TensorMapCalls() {
    }

    private static final class Driver {
        static final MethodHandle ENCODE_TILED = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup("libcuda.so.1", Arena.global()).find("cuTensorMapEncodeTiled")
                        .orElseThrow(() -> new CudaUnavailableException("the CUDA driver library has no"
                                + " cuTensorMapEncodeTiled (drivers for CUDA 12.0 and later have it)")),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    /**
     * Why the driver would refuse a map of {@code rows} rows of {@code rowElems} bf16 at {@code address}
     * read in boxes of {@code boxCols} x {@code boxRows} with the 128-byte swizzle; null where it takes
     * it. Rows are also kept below 2^31: the kernels address them with signed 32-bit coordinates.
     */
    static String invalidReason(long address, long rows, int rowElems, int boxCols, int boxRows) {
        if (address == 0 || address % 16 != 0) {
            return String.format(Locale.ROOT, "address 0x%x is not 16-byte aligned", address);
        }
        if (rows < 1 || rows >= 1L << 31) {
            return rows + " rows: a tensor map's rows are 1 to 2^31 - 1 here";
        }
        if (rowElems < 1 || (2L * rowElems) % 16 != 0) {
            return "rows of " + rowElems + " bf16 are not a multiple of 16 bytes";
        }
        if (boxCols < 8 || 2 * boxCols > 128 || (2 * boxCols) % 16 != 0 || boxCols > rowElems) {
            return "a box of " + boxCols + " columns: the 128-byte swizzle takes 16 to 128 bytes, a multiple of 16,"
                    + " within a row of " + rowElems;
        }
        if (boxRows < 1 || boxRows > 256) {
            return "a box of " + boxRows + " rows: 1 to 256";
        }
        return null;
    }

    /**
     * The map of {@code rows} rows of {@code rowElems} bf16 each (contiguous, {@code 2 rowElems} bytes
     * apart) at device address {@code address}, copied in boxes of {@code boxCols} columns by
     * {@code boxRows} rows, each box row landing 128-byte swizzled in shared memory.
     */
    static byte[] bf16Rows(long address, long rows, int rowElems, int boxCols, int boxRows) {
        String invalid = invalidReason(address, rows, rowElems, boxCols, boxRows);
        if (invalid != null) {
            throw new IllegalArgumentException("tensor map: " + invalid);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = arena.allocate(BYTES, 128);
            MemorySegment dims = arena.allocate(16, 8);
            dims.set(ValueLayout.JAVA_LONG, 0, rowElems);
            dims.set(ValueLayout.JAVA_LONG, 8, rows);
            MemorySegment strides = arena.allocate(8, 8);
            strides.set(ValueLayout.JAVA_LONG, 0, 2L * rowElems);
            MemorySegment box = arena.allocate(8, 4);
            box.set(ValueLayout.JAVA_INT, 0, boxCols);
            box.set(ValueLayout.JAVA_INT, 4, boxRows);
            MemorySegment elementStrides = arena.allocate(8, 4);
            elementStrides.set(ValueLayout.JAVA_INT, 0, 1);
            elementStrides.set(ValueLayout.JAVA_INT, 4, 1);
            int rc = (int) Driver.ENCODE_TILED.invokeExact(map, DATA_TYPE_BFLOAT16, 2, MemorySegment.ofAddress(address),
                    dims, strides, box, elementStrides, INTERLEAVE_NONE, SWIZZLE_128B, L2_PROMOTION_256B, OOB_FILL_NONE);
            if (rc != 0) {
                throw new IllegalStateException(String.format(Locale.ROOT, "cuTensorMapEncodeTiled failed with CUDA"
                        + " error %d (%,d rows of %d bf16 at 0x%x, boxes of %d x %d)", rc, rows, rowElems, address,
                        boxCols, boxRows));
            }
            return map.toArray(ValueLayout.JAVA_BYTE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuTensorMapEncodeTiled failed", t);
        }
    }
}
