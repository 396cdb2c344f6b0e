package io.ferryvm.migration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.Host;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.PageWalkCheck;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.testing.TestGuests;
import java.util.Arrays;
import java.util.UUID;

/** The oracles: QEMU's pagewalk rule, and the digest of an unmigrated twin run to the same step count. */
final class Guests {
    private Guests() {}

    /** Pauses the migrated VM on host and checks both pagewalk rules over its memory. */
    static void assertPageWalkIntact(Host host, UUID vm, Workload.PageWalk w, int vcpus) {
        Vm v = host.vm(vm);
        assertEquals(VmStatus.RUNNING, v.status());
        Machine m = v.machine();
        long before = m.totalSteps();
        await().atMost(TestGuests.LONG).until(() -> m.totalSteps() > before); // the guest goes on after migration
        host.pause(vm);
        PageWalkCheck.Result mem = PageWalkCheck.memoryRule(m.memory(), w, vcpus);
        assertTrue(mem.ok(), mem.toString());
        MachineState st = m.saveState();
        PageWalkCheck.Result regs = PageWalkCheck.registerRule(m.memory(), w, st);
        assertTrue(regs.ok(), regs.toString());
    }

    /**
     * Runs the migrated VM on host to exactly extra steps beyond the furthest vCPU, then compares its memory
     * digest with a twin that never migrated: migration is invisible to the guest.
     */
    static void assertTwinDigest(Host host, UUID vm, Workload w, long memory, int vcpus, long extra) {
        Machine m = host.vm(vm).machine();
        m.pause(); // read the step counts while nothing runs, so no vCPU is already past the limit
        long target = Arrays.stream(m.steps()).max().orElse(0) + extra;
        m.setStepLimit(target);
        m.resume();
        await().atMost(TestGuests.LONG).until(() -> Arrays.stream(m.steps()).allMatch(s -> s == target));
        m.pause();
        long migrated = m.memory().digest();
        long twin = TestGuests.replayDigest(w, memory, vcpus, target);
        assertEquals(twin, migrated, "memory of the migrated guest differs from its unmigrated twin at step " + target);
    }
}
