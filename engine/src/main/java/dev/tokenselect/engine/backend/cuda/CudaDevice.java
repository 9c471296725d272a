package dev.tokenselect.engine.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jcuda.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * One GPU through JCuda's driver API: the primary context, the kernels of {@code cuda/tokenselect.fatbin}
 * (built by nvcc with the engine), device allocations (tracked and freed on close) and kernel launches.
 *
 * <p>All work goes to the legacy default stream, so kernels, copies and host reads are ordered
 * without explicit synchronisation (first version; see CudaBackend about graphs and streams). Not
 * thread-safe: the caller serialises use (CudaBackend holds a lock) and makes the context current on
 * the calling thread with {@link #makeCurrent()}.
 */
public final class CudaDevice implements AutoCloseable {

    /** The classpath resource nvcc's fatbin is packaged as. */
    public static final String FATBIN_RESOURCE = "/cuda/tokenselect.fatbin";
    /**
     * The kernels built for sm_90a only (Hopper's warpgroup MMA, {@code wgmma.cu}), loaded as a second
     * module on devices of compute capability 9.0 where the build has them.
     */
    public static final String SM90A_FATBIN_RESOURCE = "/cuda/tokenselect_sm90a.fatbin";

    private static final CUdeviceptr NULL = new CUdeviceptr();

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    /** The sm_90a kernels' module, null where the device or the build has none. */
    private CUmodule sm90aModule;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<CUdeviceptr, Long> allocations = new IdentityHashMap<>();
    private final List<SpanningRange> spanning = new ArrayList<>();
    private final String name;
    private final int multiprocessors;
    private final int computeMajor;
    private final int computeMinor;
    private final int maxSharedOptin;
    private long allocatedBytes;
    private boolean closed;
    /** Where {@link #launch} enqueues: the legacy default stream, or a stream being captured. */
    private CUstream launchStream;
    private CUstream captureStream;
    private final java.util.Set<CUgraphExec> graphs = java.util.Collections.newSetFromMap(new IdentityHashMap<>());

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        initDriver();
        int[] count = new int[1];
        cuDeviceGetCount(count);
        if (count[0] == 0) {
            throw new CudaUnavailableException("no NVIDIA GPU/driver found: the CUDA driver reports no devices;"
                    + " use --backend cpu");
        }
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " does not exist: " + count[0]
                    + " device(s), ordinals 0.." + (count[0] - 1));
        }
        byte[] image = loadFatbin();
        cuDeviceGet(device, ordinal);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        this.name = new String(nameBytes, 0, len, java.nio.charset.StandardCharsets.UTF_8);
        this.multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.maxSharedOptin = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        try {
            cuModuleLoadData(module, image);
        } catch (CudaException e) {
            cuDevicePrimaryCtxRelease(device);
            throw new CudaUnavailableException("the CUDA kernels of this build do not load on " + name + " (compute "
                    + computeMajor + "." + computeMinor + "): " + e.getMessage()
                    + "; the fatbin holds sm_80/86/89/90 and compute_90 PTX, so the driver may be older than the"
                    + " nvcc that built it", e);
        }
        // -Dtokenselect.cuda.sm90a=false leaves them out (the mma.sync kernels serve everywhere)
        byte[] sm90a = computeMajor == 9 && computeMinor == 0 && CudaSwitch.flag("sm90a", true)
                ? resource(SM90A_FATBIN_RESOURCE) : null;
        if (sm90a != null) {
            CUmodule m = new CUmodule();
            try {
                cuModuleLoadData(m, sm90a);
                sm90aModule = m;
            } catch (CudaException e) { // the sm_90 kernels still run; the wgmma paths say they are missing
                System.getLogger(CudaDevice.class.getName()).log(System.Logger.Level.WARNING,
                        "the sm_90a kernels of this build do not load on " + name + ": " + e.getMessage());
            }
        }
    }

    /** Whether the sm_90a kernels (Hopper's warpgroup MMA) are loaded on this device. */
    public boolean hasSm90aKernels() {
        return sm90aModule != null;
    }

    /**
     * Opens device {@code ordinal}.
     *
     * @throws CudaUnavailableException with a message naming what is missing (driver, GPU, kernels)
     */
    public static CudaDevice open(int ordinal) {
        return new CudaDevice(ordinal);
    }

    /** Whether this build's jar carries the CUDA kernels (nvcc was found when it was built). */
    public static boolean hasKernels() {
        return CudaDevice.class.getResource(FATBIN_RESOURCE) != null;
    }

    private static void initDriver() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] version = new int[1];
            cuDriverGetVersion(version);
        } catch (LinkageError e) {
            // UnsatisfiedLinkError (no libcuda.so.1) the first time, NoClassDefFoundError after that
            String why = String.valueOf(e.getMessage());
            int nl = why.indexOf('\n');
            why = nl < 0 ? why : why.substring(0, nl);
            throw new CudaUnavailableException("no NVIDIA GPU/driver found: the CUDA driver library (libcuda.so.1)"
                    + " could not be loaded (" + e.getClass().getSimpleName() + ": " + why + "); install the NVIDIA driver on a machine with an NVIDIA GPU,"
                    + " or use --backend cpu", e);
        } catch (CudaException e) {
            throw new CudaUnavailableException("no NVIDIA GPU/driver found: cuInit failed (" + e.getMessage()
                    + "); check nvidia-smi, or use --backend cpu", e);
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = CudaDevice.class.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] loadFatbin() {
        try (InputStream in = CudaDevice.class.getResourceAsStream(FATBIN_RESOURCE)) {
            if (in == null) {
                throw new CudaUnavailableException("this build has no CUDA kernels: nvcc was not found at build time"
                        + " (resource " + FATBIN_RESOURCE + " is missing from the jar); rebuild the engine with nvcc"
                        + " on the PATH, CUDA_HOME set or -Dnvcc=/path/to/nvcc, or use --backend cpu");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int attribute(int attribute) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attribute, device);
        return v[0];
    }

    /** Makes this device's context current on the calling thread. */
    public void makeCurrent() {
        checkOpen();
        cuCtxSetCurrent(context);
    }

    public String name() {
        return name;
    }

    public int ordinal() {
        return ordinal;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    public int maxSharedMemoryOptin() {
        return maxSharedOptin;
    }

    /** {free, total} bytes of device memory. */
    public long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    public long allocatedBytes() {
        return allocatedBytes;
    }

    public String describe() {
        long[] mem = memoryInfo();
        return String.format(Locale.ROOT, "CUDA device %d: %s (compute %s, %d SMs, %.1f GiB)", ordinal, name,
                computeCapability(), multiprocessors, mem[1] / (double) (1L << 30));
    }

    /** A kernel of the fatbin by its extern "C" name. */
    public CUfunction function(String kernel) {
        return functions.computeIfAbsent(kernel, k -> {
            CUfunction f = new CUfunction();
            try {
                cuModuleGetFunction(f, module, k);
            } catch (CudaException e) {
                if (sm90aModule != null) {
                    try {
                        cuModuleGetFunction(f, sm90aModule, k);
                        return f;
                    } catch (CudaException ignored) { // reported below with the main module's error
                    }
                }
                throw new IllegalStateException("kernel '" + k + "' is missing from the CUDA fatbin: " + e.getMessage(), e);
            }
            return f;
        });
    }

    /** Lets {@code kernel} use up to {@code bytes} of dynamic shared memory (above the 48 KiB default). */
    public void allowDynamicShared(String kernel, int bytes) {
        cuFuncSetAttribute(function(kernel), CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                Math.min(bytes, maxSharedOptin));
    }

    /** Allocates {@code bytes} of device memory; an out-of-memory error says how much was free. */
    public CUdeviceptr alloc(long bytes, String what) {
        checkOpen();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, Math.max(bytes, 4));
        } catch (CudaException e) {
            long[] mem = memoryInfo();
            throw new CudaOutOfMemoryException(what, bytes, mem[0], mem[1], e);
        }
        allocations.put(p, bytes);
        allocatedBytes += bytes;
        return p;
    }

    /**
     * Device memory followed by pinned host memory in one range the kernels address as one array
     * ({@link SpanningRange}); freed on close.
     */
    public SpanningRange allocSpanning(long deviceBytes, long hostBytes, String what) {
        checkOpen();
        SpanningRange r = SpanningRange.map(ordinal, SpanningRange.hostLocation(
                attributeOr(SpanningRange.ATTRIBUTE_HOST_VMM, 0) != 0,
                attributeOr(SpanningRange.ATTRIBUTE_HOST_NUMA_VMM, 0) != 0,
                attributeOr(SpanningRange.ATTRIBUTE_HOST_NUMA_ID, -1)), deviceBytes, hostBytes, what);
        spanning.add(r);
        allocatedBytes += r.deviceBytes();
        return r;
    }

    /** A device attribute by its cuda.h value, {@code fallback} where the driver does not know it. */
    private int attributeOr(int attribute, int fallback) {
        try {
            int[] v = new int[1];
            cuDeviceGetAttribute(v, attribute, device);
            return v[0];
        } catch (CudaException e) { // a driver older than the attribute
            return fallback;
        }
    }

    public void free(CUdeviceptr p) {
        if (p == null || closed) {
            return;
        }
        Long bytes = allocations.remove(p);
        if (bytes != null) {
            cuMemFree(p);
            allocatedBytes -= bytes;
        }
    }

    public CUdeviceptr upload(float[] data, String what) {
        CUdeviceptr p = alloc(4L * data.length, what);
        cuMemcpyHtoD(p, Pointer.to(data), 4L * data.length);
        return p;
    }

    public CUdeviceptr upload(int[] data, String what) {
        CUdeviceptr p = alloc(4L * data.length, what);
        cuMemcpyHtoD(p, Pointer.to(data), 4L * data.length);
        return p;
    }

    public void copyToDevice(CUdeviceptr dst, float[] src, int count) {
        cuMemcpyHtoD(dst, Pointer.to(src), 4L * count);
    }

    public void copyToDevice(CUdeviceptr dst, int[] src, int count) {
        cuMemcpyHtoD(dst, Pointer.to(src), 4L * count);
    }

    public void copyToDevice(CUdeviceptr dst, short[] src, int count) {
        cuMemcpyHtoD(dst, Pointer.to(src), 2L * count);
    }

    /** Copies the {@code buffer}'s remaining bytes (a direct buffer) to {@code dst}. */
    public void copyToDevice(CUdeviceptr dst, ByteBuffer buffer) {
        cuMemcpyHtoD(dst, Pointer.to(buffer.slice()), buffer.remaining());
    }

    /** Copies {@code bytes} from a host segment (native or heap) to the device. */
    public void copyToDevice(CUdeviceptr dst, java.lang.foreign.MemorySegment src, long bytes) {
        cuMemcpyHtoD(dst, pointerTo(src), bytes);
    }

    /** Copies {@code bytes} from the device into a host segment (native or heap). */
    public void copyToHost(java.lang.foreign.MemorySegment dst, CUdeviceptr src, long bytes) {
        cuMemcpyDtoH(pointerTo(dst), src, bytes);
    }

    private static Pointer pointerTo(java.lang.foreign.MemorySegment s) {
        return Pointer.to(s.asByteBuffer()); // direct for a native segment; JCuda pins a heap one's array
    }

    public void copyToHost(float[] dst, CUdeviceptr src, int count) {
        cuMemcpyDtoH(Pointer.to(dst), src, 4L * count);
    }

    public void copyToHost(int[] dst, CUdeviceptr src, int count) {
        cuMemcpyDtoH(Pointer.to(dst), src, 4L * count);
    }

    public void copyToHost(short[] dst, CUdeviceptr src, int count) {
        cuMemcpyDtoH(Pointer.to(dst), src, 2L * count);
    }

    public void copyDeviceToDevice(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        cuMemcpyDtoD(dst, src, bytes);
    }

    /** Fills {@code count} 32-bit words with {@code bits} (a NaN pattern poisons outputs in tests). */
    public void fill32(CUdeviceptr dst, int bits, long count) {
        cuMemsetD32(dst, bits, count);
    }

    public void synchronize() {
        cuCtxSynchronize();
    }

    /**
     * Whether kernels captured into graphs are launched with programmatic stream serialization (each may
     * start while the one before drains; see {@link ProgrammaticLaunch}). Needs sm_90 or newer.
     */
    private boolean programmaticLaunch;

    /** Turns programmatic dependent launches of captured kernels on or off; graphs captured before keep theirs. */
    public void setProgrammaticLaunch(boolean on) {
        if (on && computeMajor < 9) {
            throw new IllegalStateException("programmatic dependent launch needs compute capability 9.0 or newer, this"
                    + " device has " + computeCapability() + ": leave tokenselect.cuda.programmaticLaunch off on it");
        }
        if (on && ProgrammaticLaunch.unavailableReason() != null) {
            throw new IllegalStateException(ProgrammaticLaunch.unavailableReason()
                    + ": leave tokenselect.cuda.programmaticLaunch off with this driver");
        }
        programmaticLaunch = on;
    }

    public boolean programmaticLaunch() {
        return programmaticLaunch;
    }

    /** Whether this device and driver can launch kernels with programmatic stream serialization. */
    public boolean programmaticLaunchPossible() {
        return computeMajor >= 9 && ProgrammaticLaunch.unavailableReason() == null;
    }

    /**
     * Launches {@code kernel} on the default stream (on the capture stream while a graph is being captured,
     * with programmatic stream serialization when that is on). Arguments: {@link CUdeviceptr} (null for a null
     * device pointer), Integer, Long, Float, and byte[] for a structure passed by value.
     */
    public void launch(String kernel, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
        if (programmaticLaunch && launchStream != null && launchStream == captureStream) {
            ProgrammaticLaunch.launch(function(kernel), gx, gy, gz, block, sharedBytes, launchStream, args);
            return;
        }
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            params[i] = switch (a) {
                case null -> Pointer.to(NULL);
                case CUdeviceptr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case byte[] v -> Pointer.to(v); // a structure passed by value (a tensor map)
                default -> throw new IllegalArgumentException("unsupported kernel argument " + a.getClass());
            };
        }
        cuLaunchKernel(function(kernel), gx, gy, gz, block, 1, 1, sharedBytes, launchStream, Pointer.to(params), null);
    }

    /**
     * Records the kernels {@code work} launches into a CUDA graph instead of running them, and returns
     * the instantiated graph. Capture needs a non-default stream; it is a blocking stream, so
     * replaying on it stays ordered with the synchronous copies of the legacy default stream. The
     * work must only launch kernels (no copies, allocations or synchronisation).
     */
    public CUgraphExec capture(Runnable work) {
        checkOpen();
        if (captureStream == null) {
            captureStream = new CUstream();
            JCudaDriver.cuStreamCreate(captureStream, 0);
        }
        CUgraph graph = new CUgraph();
        // relaxed: other threads' unrelated CUDA calls (none are expected: callers hold the backend lock) stay legal
        JCudaDriver.cuStreamBeginCapture(captureStream, jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED);
        launchStream = captureStream;
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            launchStream = null;
            JCudaDriver.cuStreamEndCapture(captureStream, graph);
            JCudaDriver.cuGraphDestroy(graph);
            throw e;
        }
        launchStream = null;
        JCudaDriver.cuStreamEndCapture(captureStream, graph);
        CUgraphExec exec = new CUgraphExec();
        try {
            JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        } finally {
            JCudaDriver.cuGraphDestroy(graph);
        }
        graphs.add(exec);
        return exec;
    }

    /** Replays a captured graph (asynchronously; a following synchronous copy waits for it). */
    public void replay(CUgraphExec exec) {
        checkOpen();
        JCudaDriver.cuGraphLaunch(exec, captureStream);
    }

    /** Frees a captured graph. */
    public void destroy(CUgraphExec exec) {
        if (exec != null && graphs.remove(exec) && !closed) {
            JCudaDriver.cuGraphExecDestroy(exec);
        }
    }

    /** A pair of events timing work on the default stream, in milliseconds. */
    public final class Timer {
        private final CUevent start = new CUevent();
        private final CUevent stop = new CUevent();

        Timer() {
            JCudaDriver.cuEventCreate(start, 0);
            JCudaDriver.cuEventCreate(stop, 0);
        }

        public void start() {
            JCudaDriver.cuEventRecord(start, null);
        }

        public float stopMillis() {
            JCudaDriver.cuEventRecord(stop, null);
            JCudaDriver.cuEventSynchronize(stop);
            float[] ms = new float[1];
            JCudaDriver.cuEventElapsedTime(ms, start, stop);
            return ms[0];
        }

        public void destroy() {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    public Timer timer() {
        return new Timer();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the CUDA device is closed");
        }
    }

    /** Frees every allocation still held, unloads the kernels and releases the context. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        cuCtxSetCurrent(context);
        try {
            cuCtxSynchronize();
        } catch (CudaException ignored) {
            // a failed kernel leaves the context broken; still free what we can
        }
        for (CUgraphExec g : graphs) {
            try {
                JCudaDriver.cuGraphExecDestroy(g);
            } catch (CudaException ignored) {
                // keep releasing the rest
            }
        }
        graphs.clear();
        if (captureStream != null) {
            try {
                JCudaDriver.cuStreamDestroy(captureStream);
            } catch (CudaException ignored) {
                // the context goes away below anyway
            }
        }
        for (CUdeviceptr p : allocations.keySet()) {
            try {
                cuMemFree(p);
            } catch (CudaException ignored) {
                // keep freeing the rest
            }
        }
        allocations.clear();
        for (SpanningRange r : spanning) {
            r.close();
        }
        spanning.clear();
        allocatedBytes = 0;
        try {
            if (sm90aModule != null) {
                cuModuleUnload(sm90aModule);
            }
            cuModuleUnload(module);
        } finally {
            closed = true;
            cuDevicePrimaryCtxRelease(device);
        }
    }
}
