package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * Device time of the phases of a forward pass, from events recorded on the launch stream between
 * them (profiling runs only: every mark is an event record). Each {@link #mark} closes the phase that
 * began at the mark before it; a phase's time includes any wait of the device for the host inside
 * it, so the phases add up to the pass's time.
 */
final class PhaseTimes {

    private final List<CUevent> events = new ArrayList<>();
    private final List<String> phases = new ArrayList<>();

    /** Starts timing (the first phase begins here). */
    void begin() {
        events.add(record());
    }

    /** Ends the phase {@code name} that began at the previous mark. */
    void mark(String name) {
        if (events.isEmpty()) {
            throw new IllegalStateException("mark before begin");
        }
        events.add(record());
        phases.add(name);
    }

    /** Milliseconds per phase name, summed over every time it ran, in order of first appearance; frees the events. */
    Map<String, Double> finish() {
        Map<String, Double> totals = new LinkedHashMap<>();
        try {
            if (!events.isEmpty()) {
                JCudaDriver.cuEventSynchronize(events.getLast());
            }
            float[] ms = new float[1];
            for (int i = 0; i < phases.size(); i++) {
                JCudaDriver.cuEventElapsedTime(ms, events.get(i), events.get(i + 1));
                totals.merge(phases.get(i), (double) ms[0], Double::sum);
            }
        } finally {
            for (CUevent e : events) {
                JCudaDriver.cuEventDestroy(e);
            }
            events.clear();
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
