package io.ferryvm.core.machine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.Placer;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.host.InventoryReader;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On Linux, vCPU threads really run only on their pinned CPUs (read back from /proc) and re-pin on request. */
class PinningTest {
    @Test
    void vcpuThreadsArePinnedAndRepinned(@TempDir Path dir) {
        assumeTrue(LinuxSys.available(), "sched_setaffinity needs Linux");
        HostInventory inv = InventoryReader.detect();
        int last = inv.cpus().get(inv.cpuCount() - 1).id();
        int first = inv.cpus().get(0).id();
        Binding pinned = new Binding(List.of(List.of(last), List.of(first)), MemoryPolicy.bind(inv.nodes().get(0).id()));
        Placer placer = new Placer() {
            @Override
            public Binding place(VmSpec spec, HostInventory inventory) {
                return pinned;
            }

            @Override
            public void release(UUID vm) {}
        };
        try (Host h = Host.open(new HostConfig("real", dir, inv, placer, null))) {
            VmSpec spec = VmSpec.of("pinned", 2, 16L << 20, new Workload.PageWalk(0, 0, 1));
            h.define(spec);
            h.start(spec.id());
            Machine m = h.vm(spec.id()).machine();
            Vcpu v0 = m.vcpus().get(0);
            Vcpu v1 = m.vcpus().get(1);
            await().until(() -> v0.threadId() > 0 && v1.threadId() > 0 && v0.steps() > 0 && v1.steps() > 0);
            assertEquals(List.of(last), CpuBinder.allowedCpusOf(v0.threadId()));
            assertEquals(List.of(first), CpuBinder.allowedCpusOf(v1.threadId()));
            assertEquals(LinuxSys.MPOL_BIND, m.memory().kernelPolicyOf(0) & 0xff);
            assertEquals(true, h.info(spec.id()).bindingApplied());

            h.vm(spec.id()).rebind(new Binding(List.of(List.of(first), List.of(last)), MemoryPolicy.DEFAULT));
            assertEquals(List.of(first), CpuBinder.allowedCpusOf(v0.threadId()));
            assertEquals(List.of(last), CpuBinder.allowedCpusOf(v1.threadId()));
        }
    }
}
