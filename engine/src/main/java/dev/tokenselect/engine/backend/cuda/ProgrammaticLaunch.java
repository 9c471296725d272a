package dev.tokenselect.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.util.Optional;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * Kernel launches with programmatic stream serialization ({@code cuLaunchKernelEx} with
 * {@code CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION}, sm_90+): the next kernel of a decode
 * step is scheduled while the one before drains, and prefetches its weights before it waits
 * ({@code PDL_BEGIN} in every kernel, common.cuh). JCuda 12.6 has no binding for cuLaunchKernelEx,
 * so it is called through the Foreign Function API on the same libcuda, with the handles JCuda holds.
 */
final class ProgrammaticLaunch {

    private static final int ATTR_PROGRAMMATIC_STREAM_SERIALIZATION = 6;
    /** CUlaunchConfig: 7 unsigned (grid, block, shared bytes), pad, stream, attrs pointer, numAttrs, pad. */
    private static final long CONFIG_BYTES = 56;
    /** CUlaunchAttribute: id (4 bytes), pad (4), a 64-byte value union. */
    private static final long ATTRIBUTE_BYTES = 72;

    private static final MethodHandle LAUNCH_EX;
    private static final Method NATIVE_POINTER;
    private static final Method BYTE_OFFSET;
    private static final String UNAVAILABLE;

    static {
        MethodHandle launch = null;
        Method nativePointer = null;
        Method byteOffset = null;
        String why = null;
        try {
            SymbolLookup cuda = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            Optional<MemorySegment> symbol = cuda.find("cuLaunchKernelEx");
            if (symbol.isEmpty()) {
                why = "libcuda has no cuLaunchKernelEx (a driver older than CUDA 12)";
            } else {
                launch = Linker.nativeLinker().downcallHandle(symbol.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                nativePointer = NativePointerObject.class.getDeclaredMethod("getNativePointer");
                nativePointer.setAccessible(true);
                byteOffset = Pointer.class.getDeclaredMethod("getByteOffset");
                byteOffset.setAccessible(true);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            why = "cuLaunchKernelEx could not be bound: " + e;
            launch = null;
        }
        LAUNCH_EX = launch;
        NATIVE_POINTER = nativePointer;
        BYTE_OFFSET = byteOffset;
        UNAVAILABLE = why;
    }

    private ProgrammaticLaunch() {
    }

    /** Null when programmatic launches can be made here, else why not. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** Launches {@code function} on {@code stream} with programmatic stream serialization allowed. */
    static void launch(CUfunction function, int gx, int gy, int gz, int block, int sharedBytes, CUstream stream,
                       Object... args) {
        if (LAUNCH_EX == null) {
            throw new IllegalStateException("programmatic dependent launch unavailable: " + UNAVAILABLE);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTRIBUTE_BYTES, 8);
            attr.set(ValueLayout.JAVA_INT, 0, ATTR_PROGRAMMATIC_STREAM_SERIALIZATION);
            attr.set(ValueLayout.JAVA_INT, 8, 1);
            MemorySegment config = arena.allocate(CONFIG_BYTES, 8);
            int[] dims = {gx, gy, gz, block, 1, 1, sharedBytes};
            for (int i = 0; i < dims.length; i++) {
                config.set(ValueLayout.JAVA_INT, 4L * i, dims[i]);
            }
            config.set(ValueLayout.JAVA_LONG, 32, address(stream));
            config.set(ValueLayout.ADDRESS, 40, attr);
            config.set(ValueLayout.JAVA_INT, 48, 1);
            // kernelParams: one pointer per argument, each to an 8-byte slot holding the value
            MemorySegment values = arena.allocate(8L * Math.max(1, args.length), 8);
            MemorySegment params = arena.allocate(8L * Math.max(1, args.length), 8);
            for (int i = 0; i < args.length; i++) {
                long at = 8L * i;
                if (args[i] instanceof byte[] bytes) { // a structure passed by value (a tensor map)
                    MemorySegment blob = arena.allocate(bytes.length, 128);
                    blob.copyFrom(MemorySegment.ofArray(bytes));
                    params.set(ValueLayout.ADDRESS, at, blob);
                    continue;
                }
                switch (args[i]) {
                    case null -> values.set(ValueLayout.JAVA_LONG, at, 0L);
                    case CUdeviceptr p -> values.set(ValueLayout.JAVA_LONG, at, address(p));
                    case Integer v -> values.set(ValueLayout.JAVA_INT, at, v);
                    case Long v -> values.set(ValueLayout.JAVA_LONG, at, v);
                    case Float v -> values.set(ValueLayout.JAVA_FLOAT, at, v);
                    default -> throw new IllegalArgumentException("unsupported kernel argument " + args[i].getClass());
                }
                params.set(ValueLayout.ADDRESS, at, values.asSlice(at, 8));
            }
            int rc = (int) LAUNCH_EX.invokeExact(config, MemorySegment.ofAddress(address(function)), params,
                    MemorySegment.NULL);
            if (rc != 0) {
                throw new IllegalStateException("cuLaunchKernelEx failed with CUDA error " + rc);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuLaunchKernelEx failed", t);
        }
    }

    /** The native handle or device address JCuda holds (a pointer's byte offset included). */
    static long address(NativePointerObject o) {
        if (o == null) {
            return 0L;
        }
        try {
            long base = (long) NATIVE_POINTER.invoke(o);
            return o instanceof Pointer p ? base + (long) BYTE_OFFSET.invoke(p) : base;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read a JCuda handle", e);
        }
    }
}
