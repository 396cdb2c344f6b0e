package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static io.ferryvm.numa.TestHosts.dedicated;
import static io.ferryvm.numa.TestHosts.placed;
import static io.ferryvm.numa.TestHosts.rejected;
import static io.ferryvm.numa.TestHosts.shared;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec.ThreadPolicy;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClusterSchedulerTest {
    private static ClusterScheduler cluster(ClusterScheduler.Policy policy, int hosts) {
        ClusterScheduler s = new ClusterScheduler(new ClusterScheduler.Config(policy, 1.0, 4, 16));
        for (int i = 0; i < hosts; i++) {
            s.addHost(HostTopology.declared("h" + i, 2, 4, 1, 8 * GIB));
        }
        return s;
    }

    @Test
    void packFillsOneHostBeforeTheNext() {
        ClusterScheduler s = cluster(ClusterScheduler.Policy.PACK, 4);
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            used.add(placed(s.place(dedicated(1, 2 * GIB, ThreadPolicy.PREFER))).host());
        }
        assertEquals(1, used.size(), "8 one-vCPU VMs fill one 8-CPU host: " + used);
        assertNotEquals(used.iterator().next(), placed(s.place(dedicated(1, GIB, ThreadPolicy.PREFER))).host());
    }

    @Test
    void spreadUsesTheEmptiestHost() {
        ClusterScheduler s = cluster(ClusterScheduler.Policy.SPREAD, 4);
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            used.add(placed(s.place(shared(1, GIB))).host());
        }
        assertEquals(4, used.size(), "one VM per host: " + used);
    }

    @Test
    void antiAffinityGroupMembersNeverShareAHost() {
        ClusterScheduler s = cluster(ClusterScheduler.Policy.PACK, 3);
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            used.add(placed(s.place(shared(1, GIB).withGroup("db"))).host());
        }
        assertEquals(3, used.size());
        Rejection r = rejected(s.place(shared(1, GIB).withGroup("db")));
        assertEquals(Constraint.ANTI_AFFINITY, r.constraint(), r.toString());
        placed(s.place(shared(1, GIB).withGroup("web")));
    }

    @Test
    void aVmThatFitsOneNodeSomewhereIsNotSplitElsewhere() {
        ClusterScheduler s = new ClusterScheduler(new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, 1.0, 4, 16));
        s.addHost(HostTopology.declared("a", 2, 4, 1, 8 * GIB));
        s.addHost(HostTopology.declared("b", 2, 4, 1, 8 * GIB));
        // a: 2 pCPUs left on each node, packing would prefer it, but only as a split
        placed(s.place(dedicated(2, GIB, ThreadPolicy.PREFER)));
        placed(s.place(dedicated(2, GIB, ThreadPolicy.PREFER)));
        Placement p = placed(s.place(dedicated(4, 2 * GIB, ThreadPolicy.PREFER)));
        assertEquals(1, p.cells().size(), "one node on the other host beats a split: " + p);
    }

    @Test
    void rejectionsNameTheirConstraint() {
        ClusterScheduler none = new ClusterScheduler(ClusterScheduler.Config.of(ClusterScheduler.Policy.PACK));
        assertEquals(Constraint.NO_HOSTS, rejected(none.place(shared(1, GIB))).constraint());
        ClusterScheduler s = cluster(ClusterScheduler.Policy.PACK, 2);
        assertEquals(Constraint.MEMORY, rejected(s.place(shared(1, 20 * GIB))).constraint());
        assertEquals(Constraint.DEDICATED_CPUS, rejected(s.place(dedicated(9, GIB, ThreadPolicy.PREFER))).constraint());
        assertEquals(Constraint.THREAD_POLICY, rejected(s.place(dedicated(2, GIB, ThreadPolicy.REQUIRE))).constraint());
        assertEquals(0, s.stats().placed());
        assertEquals(3, s.stats().rejected());
    }

    @Test
    void releaseMoveAndMaintenance() {
        ClusterScheduler s = cluster(ClusterScheduler.Policy.PACK, 2);
        Placement p = placed(s.place(dedicated(2, 2 * GIB, ThreadPolicy.PREFER)));
        assertThrows(NumaException.class, () -> s.place(p.request()));
        String other = p.host().equals("h0") ? "h1" : "h0";
        Placement q = placed(s.move(p.vm(), other));
        assertEquals(other, q.host());
        assertFalse(s.state(p.host()).holds(p.vm()));
        assertEquals(other, s.hostOf(p.vm()).orElseThrow());
        s.setEnabled(p.host(), false);
        for (int i = 0; i < 3; i++) {
            assertEquals(other, placed(s.place(shared(1, GIB))).host(), "a disabled host takes nothing");
        }
        assertTrue(s.release(p.vm()));
        assertFalse(s.release(p.vm()));
        assertEquals(8.0 - 3, s.state(other).freeCpus(), 1e-9);
    }
    @Test
    void packLeavesNoNodeWithFreePcpusButLessMemoryThanTheSmallestVm() {
        ClusterScheduler s = new ClusterScheduler(new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, 1.0, 4, 16, 2 * GIB));
        s.addHost(HostTopology.declared("tight", 1, 2, 1, 3 * GIB));
        s.addHost(HostTopology.declared("roomy", 1, 8, 1, 32 * GIB));
        // tight is fuller, but would keep 1 pCPU with 1 GiB free: stranded
        assertEquals("roomy", placed(s.place(shared(1, 2 * GIB))).host());
        // an exact fit uses up both resources of a node and strands nothing: packing takes it
        s.addHost(HostTopology.declared("exact", 1, 1, 1, 2 * GIB));
        assertEquals("exact", placed(s.place(shared(1, 2 * GIB))).host());
        // with nothing clean left, a VM still goes where it fits
        ClusterScheduler only = new ClusterScheduler(new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, 1.0, 4, 16, 2 * GIB));
        only.addHost(HostTopology.declared("tight", 1, 2, 1, 3 * GIB));
        assertEquals("tight", placed(only.place(shared(1, 2 * GIB))).host());
    }

    @Test
    void aNodeIsLeftCleanWithAPcpuAndTheSmallestVmsMemoryOrWithNeither() {
        long vm = 2 * GIB;
        assertTrue(HostState.leavesClean(3, 4 * GIB, 1, 2 * GIB, vm), "2 pCPUs and 2 GiB left");
        assertFalse(HostState.leavesClean(3, 3 * GIB, 1, 2 * GIB, vm), "2 pCPUs left with 1 GiB: stranded pCPUs");
        assertTrue(HostState.leavesClean(1, 3 * GIB, 1, 2 * GIB, vm), "exhausted, 1 GiB left");
        assertTrue(HostState.leavesClean(1, 5 * GIB, 1, 2 * GIB, vm), "exhausted, 3 GiB (less than two smallest VMs) left");
        assertFalse(HostState.leavesClean(1, 6 * GIB, 1, 2 * GIB, vm), "no pCPU left for 4 GiB: stranded memory");
    }
}
