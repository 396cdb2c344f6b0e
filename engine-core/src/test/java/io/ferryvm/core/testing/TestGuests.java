package io.ferryvm.core.testing;

import static org.awaitility.Awaitility.await;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.guest.GuestPrograms;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import java.time.Duration;
import java.util.Arrays;

/** Machines for tests: built from a workload, optionally run to an exact step count. */
public final class TestGuests {
    public static final Duration LONG = Duration.ofMinutes(2);

    private TestGuests() {}

    /** A machine (not started) over fresh memory. */
    public static Machine machine(String name, Workload w, long memoryBytes, int vcpus) {
        GuestMemory mem = GuestMemory.allocate(memoryBytes);
        return Machine.create(name, mem, GuestPrograms.create(w, memoryBytes, vcpus), Binding.NONE, CpuBinder.NOOP, Ticker.SYSTEM);
    }

    /** Starts m with every vCPU limited to steps and waits until each has run exactly that many. */
    public static void runTo(Machine m, long steps) {
        m.setStepLimit(steps);
        if (!m.isStarted()) {
            m.start(false);
        }
        awaitSteps(m, steps);
    }

    public static void awaitSteps(Machine m, long steps) {
        await().atMost(LONG).until(() -> Arrays.stream(m.steps()).allMatch(s -> s == steps));
    }

    /** Memory digest of a machine run from power-on to exactly steps on every vCPU. */
    public static long replayDigest(Workload w, long memoryBytes, int vcpus, long steps) {
        try (Machine m = machine("replay", w, memoryBytes, vcpus)) {
            runTo(m, steps);
            m.pause();
            return m.memory().digest();
        }
    }
}
