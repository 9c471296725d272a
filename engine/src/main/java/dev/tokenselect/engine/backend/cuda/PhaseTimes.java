package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * Device time of the phases of a forward pass, from events recorded on the launch stream around
 * each (profiling runs only). Every {@link #mark} closes the phase that began at the mark before it,
 * waits for the device, and opens the next: a phase's time is its own work on an idle device, never
 * a wait for the host or the tail of the phase before (the device runs ahead of the host, so events
 * recorded back to back would share time out by where the host happened to be).
 */
final class PhaseTimes {

    private final List<CUevent> starts = new ArrayList<>();
    private final List<CUevent> ends = new ArrayList<>();
    private final List<String> phases = new ArrayList<>();

    /** Starts timing a pass (its first phase begins here, once the device is idle). */
    void begin() {
        if (starts.size() > ends.size()) { // the phase the previous pass's last mark opened
            JCudaDriver.cuEventDestroy(starts.removeLast());
        }
        JCudaDriver.cuCtxSynchronize();
        starts.add(record());
    }

    /** Ends the phase {@code name} that began at the previous mark, and begins the next. */
    void mark(String name) {
        if (starts.size() == ends.size()) {
            throw new IllegalStateException("mark before begin");
        }
        ends.add(record());
        phases.add(name);
        JCudaDriver.cuCtxSynchronize();
        starts.add(record());
    }

    /** Milliseconds per phase name, summed over every time it ran, in order of first appearance; frees the events. */
    Map<String, Double> finish() {
        Map<String, Double> totals = new LinkedHashMap<>();
        try {
            JCudaDriver.cuCtxSynchronize();
            float[] ms = new float[1];
            for (int i = 0; i < phases.size(); i++) {
                JCudaDriver.cuEventElapsedTime(ms, starts.get(i), ends.get(i));
                totals.merge(phases.get(i), (double) ms[0], Double::sum);
            }
        } finally {
            for (CUevent e : starts) {
                JCudaDriver.cuEventDestroy(e);
            }
            for (CUevent e : ends) {
                JCudaDriver.cuEventDestroy(e);
            }
            starts.clear();
            ends.clear();
            phases.clear();
        }
        return totals;
    }

    private static CUevent record() {
        CUevent e = new CUevent();
        JCudaDriver.cuEventCreate(e, 0);
        JCudaDriver.cuEventRecord(e, null);
        return e;
    }
}
