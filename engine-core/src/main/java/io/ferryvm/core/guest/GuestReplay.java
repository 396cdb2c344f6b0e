package io.ferryvm.core.guest;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.VcpuState;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The deterministic twin: replays a workload from power-on to exactly the step counts a guest reached,
 * so its memory digest can be compared with the guest's ("migration is invisible to the guest").
 */
public final class GuestReplay {
    private GuestReplay() {}

    /** Memory digest after each vCPU i ran exactly steps[i] steps. Blocks until done or the timeout. */
    public static long digest(Workload workload, long memoryBytes, long[] steps, long timeoutMillis) {
        try (Machine m = Machine.create("replay", GuestMemory.allocate(memoryBytes),
                GuestPrograms.create(workload.withoutRateLimit(), memoryBytes, steps.length), Binding.NONE, CpuBinder.NOOP, Ticker.SYSTEM)) {
            m.setStepLimits(steps);
            m.start(false);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (!java.util.Arrays.equals(m.steps(), steps)) {
                if (System.nanoTime() > deadline) {
                    throw new CoreException(CoreException.Kind.TIMEOUT, "replay did not reach " + java.util.Arrays.toString(steps)
                            + " steps within " + timeoutMillis + " ms (at " + java.util.Arrays.toString(m.steps()) + ")");
                }
                if (m.crash() != null) {
                    throw new CoreException(CoreException.Kind.GUEST_CRASHED, "replay crashed: " + m.crash());
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
            m.pause();
            return m.memory().digest();
        }
    }

    /** The steps each vCPU of a saved state ran. */
    public static long[] stepsOf(MachineState state) {
        VcpuState[] v = state.vcpus();
        long[] s = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = v[i].steps();
        }
        return s;
    }
}
