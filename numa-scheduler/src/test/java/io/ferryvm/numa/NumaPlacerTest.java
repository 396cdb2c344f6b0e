package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NumaPlacer inside engine-core's Host on declared (simulated) multi-node topologies. */
class NumaPlacerTest {
    private static final long MEM = 8L << 20;

    @TempDir
    Path dir;

    private static VmSpec vm(String name, int vcpus, int guestNodes, NumaSpec.CpuPolicy cpus) {
        return VmSpec.of(name, vcpus, MEM, new Workload.Idle()).withNuma(new NumaSpec(guestNodes, List.of(),
                NumaSpec.MemoryMode.STRICT, cpus, NumaSpec.ThreadPolicy.PREFER, 4, -1));
    }

    @Test
    void aTwoGuestNodeVmIsBoundToTwoHostNodes() {
        HostInventory inv = HostInventory.declared("quad", 4, 4, 2, 4 * GIB);
        NumaPlacer placer = new NumaPlacer(HostTopology.Reserve.NONE, 1.0);
        try (Host host = Host.open(new HostConfig("quad", dir.resolve("quad"), inv, placer, null))) {
            VmSpec spec = vm("wide", 4, 2, NumaSpec.CpuPolicy.DEDICATED);
            host.define(spec);
            host.start(spec.id());
            Binding b = host.info(spec.id()).binding();
            assertEquals(MemoryPolicy.Mode.BIND, b.memory().mode());
            assertEquals(2, b.memory().nodes().size());
            Set<Integer> cpuNodes = new HashSet<>();
            Set<Integer> cpus = new HashSet<>();
            for (int v = 0; v < 4; v++) {
                int cpu = b.cpusOf(v).get(0);
                assertTrue(cpus.add(cpu), "pCPU " + cpu + " given twice");
                cpuNodes.add(inv.cpus().get(cpu).node());
            }
            assertEquals(new HashSet<>(b.memory().nodes()), cpuNodes, "vCPUs on the nodes memory is bound to");
            assertFalse(host.info(spec.id()).bindingApplied(), "a simulated host records but does not apply");
            host.stop(spec.id());
            assertTrue(placer.state().placements().isEmpty(), "stop releases the placement");
        }
    }

    @Test
    void aMigrationTargetComputesItsOwnPlacementForItsOwnTopology() {
        HostInventory srcInv = HostInventory.declared("src", 4, 4, 1, 4 * GIB);
        HostInventory dstInv = HostInventory.declared("dst", 2, 2, 2, 4 * GIB);
        NumaPlacer srcPlacer = new NumaPlacer(HostTopology.Reserve.NONE, 1.0);
        NumaPlacer dstPlacer = new NumaPlacer(HostTopology.Reserve.NONE, 1.0);
        try (Host src = Host.open(new HostConfig("src", dir.resolve("src"), srcInv, srcPlacer, null));
                Host dst = Host.open(new HostConfig("dst", dir.resolve("dst"), dstInv, dstPlacer, null))) {
            // fill the source's nodes 0..2 so the migrating VM sits on node 3, CPUs 12..15
            for (int i = 0; i < 3; i++) {
                VmSpec filler = vm("filler" + i, 4, 0, NumaSpec.CpuPolicy.DEDICATED);
                src.define(filler);
                src.start(filler.id());
            }
            VmSpec spec = vm("mover", 2, 0, NumaSpec.CpuPolicy.DEDICATED);
            src.define(spec);
            src.start(spec.id());
            Binding onSrc = src.info(spec.id()).binding();
            assertEquals(List.of(3), onSrc.memory().nodes());

            Vm incoming = dst.prepareIncoming(spec);
            Binding onDst = incoming.binding();
            assertNotEquals(onSrc, onDst, "never the source's pinning");
            assertTrue(onDst.memory().nodes().get(0) < 2, "a node the target has: " + onDst);
            for (int v = 0; v < 2; v++) {
                int cpu = onDst.cpusOf(v).get(0);
                assertTrue(cpu < dstInv.cpuCount(), "a CPU the target has: " + cpu);
            }
            assertTrue(dstPlacer.state().holds(spec.id()), "the target reserved it");
            incoming.abortMigrationIn();
            assertFalse(dstPlacer.state().holds(spec.id()), "an aborted incoming migration releases its reservation");
        }
    }

    @Test
    void dedicatedArrivalsShrinkSharedPoolsAndAreReportedForRepinning() {
        HostInventory inv = HostInventory.declared("h", 1, 4, 1, 4 * GIB);
        NumaPlacer placer = new NumaPlacer(HostTopology.Reserve.NONE, 2.0);
        try (Host host = Host.open(new HostConfig("h", dir.resolve("h"), inv, placer, null))) {
            VmSpec sh = vm("sh", 2, 0, NumaSpec.CpuPolicy.SHARED);
            host.define(sh);
            host.start(sh.id());
            assertEquals(List.of(0, 1, 2, 3), host.info(sh.id()).binding().cpusOf(0));
            VmSpec ded = vm("ded", 1, 0, NumaSpec.CpuPolicy.DEDICATED);
            host.define(ded);
            host.start(ded.id());
            int taken = host.info(ded.id()).binding().cpusOf(0).get(0);
            Binding repinned = placer.pendingRebinds().get(sh.id());
            assertFalse(repinned.cpusOf(0).contains(taken));
            assertEquals(3, repinned.cpusOf(1).size());
            assertTrue(placer.pendingRebinds().isEmpty());
        }
    }

    @Test
    void reservedHostCpusAndMemoryAreNeverGivenToGuests() {
        HostInventory inv = HostInventory.declared("h", 2, 2, 2, 4 * GIB);
        HostTopology t = HostTopology.from(inv, new HostTopology.Reserve(2, GIB));
        assertEquals(List.of(1, 5), t.guestCpus(0), "core 0 (CPUs 0 and 4) is the host's");
        assertEquals(3 * GIB, t.memory(0));
        HostState s = HostState.empty(t, 1.0);
        NumaFitter f = new NumaFitter();
        for (int i = 0; i < 4; i++) {
            Placement p = TestHosts.placed(f.fit(s, TestHosts.dedicated(1, GIB, NumaSpec.ThreadPolicy.PREFER)));
            assertFalse(t.reserved(p.cells().get(0).cpus().get(0)));
            s = s.with(p);
        }
        assertEquals(Constraint.DEDICATED_CPUS, TestHosts.rejected(f.fit(s, TestHosts.dedicated(1, GIB, NumaSpec.ThreadPolicy.PREFER))).constraint());
    }
}
