package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static io.ferryvm.numa.TestHosts.dedicated;
import static io.ferryvm.numa.TestHosts.placed;
import static io.ferryvm.numa.TestHosts.rejected;
import static io.ferryvm.numa.TestHosts.shared;
import static io.ferryvm.numa.TestHosts.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.NumaSpec.CpuPolicy;
import io.ferryvm.core.NumaSpec.MemoryMode;
import io.ferryvm.core.NumaSpec.ThreadPolicy;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class NumaFitterTest {
    private final NumaFitter fitter = new NumaFitter();

    private static VmRequest req(int vcpus, long mem, NumaSpec spec) {
        return new VmRequest(UUID.randomUUID(), vcpus, mem, spec, "");
    }

    @Test
    void smallVmGoesOnOneNodeWithSharedCpusFloatingOverItsPool() {
        HostState s = HostState.empty(TestHosts.host(2, 4, 2, 8 * GIB), 1.0);
        Placement p = placed(fitter.fit(s, VmRequest.of(UUID.randomUUID(), 2, 2 * GIB)));
        assertEquals(1, p.cells().size());
        int node = p.cells().get(0).hostNode();
        assertEquals(MemoryPolicy.preferred(node), p.memoryPolicy());
        assertEquals(Map.of(node, 2 * GIB), p.memoryByNode());
        Binding b = s.with(p).bindingOf(p.vm());
        assertEquals(s.topology().guestCpus(node), b.cpusOf(0));
        assertEquals(s.topology().guestCpus(node), b.cpusOf(1));
    }

    @Test
    void strictBindsAndInterleaveInterleavesOverTheGuestNodes() {
        HostState s = HostState.empty(TestHosts.host(2, 4, 2, 8 * GIB), 1.0);
        Placement strict = placed(fitter.fit(s, req(2, 2 * GIB, spec(0, MemoryMode.STRICT, CpuPolicy.SHARED, ThreadPolicy.PREFER))));
        assertEquals(MemoryPolicy.Mode.BIND, strict.memoryPolicy().mode());
        assertEquals(strict.cpuNodes(), strict.memoryPolicy().nodes());
        Placement inter = placed(fitter.fit(s, req(4, 4 * GIB, spec(2, MemoryMode.INTERLEAVE, CpuPolicy.SHARED, ThreadPolicy.PREFER))));
        assertEquals(MemoryPolicy.interleave(0, 1), inter.memoryPolicy());
        assertEquals(Map.of(0, 2 * GIB, 1, 2 * GIB), inter.memoryByNode());
    }

    @Test
    void aVmLargerThanANodeIsSplitOverTheClosestNodes() {
        int[][] dist = {{10, 12, 32, 32}, {12, 10, 32, 32}, {32, 32, 10, 12}, {32, 32, 12, 10}};
        HostState s = HostState.empty(TestHosts.withDistances(4, 1, 4 * GIB, dist), 1.0);
        // fill node 0 a little so the pack term would like a (0,2) pair if distance did not come first
        s = s.with(placed(fitter.fit(s, shared(1, GIB))));
        Placement p = placed(fitter.fit(s, shared(6, 6 * GIB)));
        assertEquals(2, p.cells().size());
        Set<Integer> nodes = new HashSet<>(p.cpuNodes());
        assertTrue(nodes.equals(Set.of(0, 1)) || nodes.equals(Set.of(2, 3)), "closest pair, got " + nodes);
        assertEquals(3, p.cells().get(0).vcpus().size());
        assertEquals(3 * GIB, p.cells().get(0).memoryBytes());
    }

    @Test
    void explicitUnevenSplitKeepsItsVcpusAndMemory() {
        HostState s = HostState.empty(TestHosts.host(4, 4, 1, 8 * GIB), 1.0);
        NumaSpec split = new NumaSpec(2, List.of(new NumaSpec.GuestNode(List.of(0, 2, 3), 6 * GIB),
                new NumaSpec.GuestNode(List.of(1), 2 * GIB)), MemoryMode.STRICT, CpuPolicy.DEDICATED, ThreadPolicy.PREFER, 4, -1);
        Placement p = placed(fitter.fit(s, req(4, 8 * GIB, split)));
        assertEquals(List.of(0, 2, 3), p.cells().get(0).vcpus());
        assertEquals(List.of(1), p.cells().get(1).vcpus());
        assertEquals(6 * GIB, p.memoryByNode().get(p.cells().get(0).hostNode()));
        Binding b = s.with(p).bindingOf(p.vm());
        for (int v = 0; v < 4; v++) {
            int cpu = b.cpusOf(v).get(0);
            int cell = v == 1 ? 1 : 0;
            assertTrue(s.topology().guestCpus(p.cells().get(cell).hostNode()).contains(cpu), "vCPU " + v + " on its guest node's host node");
        }
    }

    @Test
    void evenSplitOfGuestNodes() {
        HostState s = HostState.empty(TestHosts.host(4, 4, 1, 8 * GIB), 1.0);
        Placement p = placed(fitter.fit(s, req(5, 3 * GIB, spec(2, MemoryMode.STRICT, CpuPolicy.SHARED, ThreadPolicy.PREFER))));
        assertEquals(List.of(0, 1, 2), p.cells().get(0).vcpus());
        assertEquals(List.of(3, 4), p.cells().get(1).vcpus());
        assertEquals(3 * GIB, p.memoryByNode().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void dedicatedPreferFillsPartlyUsedCoresFirst() {
        HostState s = HostState.empty(TestHosts.host(1, 4, 2, 8 * GIB), 1.0);
        Placement a = placed(fitter.fit(s, dedicated(1, GIB, ThreadPolicy.PREFER)));
        s = s.with(a);
        int first = a.cells().get(0).cpus().get(0);
        Placement b = placed(fitter.fit(s, dedicated(1, GIB, ThreadPolicy.PREFER)));
        int second = b.cells().get(0).cpus().get(0);
        List<Integer> core = s.topology().cores(0).stream().filter(c -> c.contains(first)).findFirst().orElseThrow();
        assertTrue(core.contains(second), "second vCPU takes the sibling of " + first + ", got " + second);
    }

    @Test
    void isolateTakesWholeCoresAndKeepsSiblingsIdle() {
        HostState s = HostState.empty(TestHosts.host(1, 4, 2, 8 * GIB), 1.0);
        Placement p = placed(fitter.fit(s, dedicated(2, GIB, ThreadPolicy.ISOLATE)));
        assertEquals(2, p.cells().get(0).isolated().size());
        HostState t = s.with(p);
        for (int cpu : p.cells().get(0).cpus()) {
            for (List<Integer> core : t.topology().cores(0)) {
                if (core.contains(cpu)) {
                    for (int c : core) {
                        assertTrue(!t.isFree(c), "sibling " + c + " of " + cpu);
                    }
                }
            }
        }
        // one dedicated vCPU on each remaining core: no wholly free core is left for isolate
        t = t.with(placed(fitter.fit(t, dedicated(1, GIB, ThreadPolicy.PREFER))));
        t = t.with(placed(fitter.fit(t, dedicated(1, GIB, ThreadPolicy.ISOLATE))));
        // cores: 2 isolated, 1 isolated + 1 half used -> no whole core left
        Rejection r = rejected(fitter.fit(t, dedicated(1, GIB, ThreadPolicy.ISOLATE)));
        assertEquals(Constraint.THREAD_POLICY, r.constraint(), r.toString());
    }

    @Test
    void requirePlacesSiblingPairsAndNeedsSmt() {
        HostState s = HostState.empty(TestHosts.host(1, 4, 2, 8 * GIB), 1.0);
        Placement p = placed(fitter.fit(s, dedicated(4, GIB, ThreadPolicy.REQUIRE)));
        Set<List<Integer>> cores = new HashSet<>();
        for (int cpu : p.cells().get(0).cpus()) {
            cores.add(s.topology().cores(0).stream().filter(c -> c.contains(cpu)).findFirst().orElseThrow());
        }
        assertEquals(2, cores.size(), "4 vCPUs on 2 sibling pairs");
        HostState noSmt = HostState.empty(TestHosts.host(1, 4, 1, 8 * GIB), 1.0);
        assertEquals(Constraint.THREAD_POLICY, rejected(fitter.fit(noSmt, dedicated(2, GIB, ThreadPolicy.REQUIRE))).constraint());
    }

    @Test
    void sharedVcpusRespectTheOvercommitRatio() {
        HostState s = HostState.empty(TestHosts.host(1, 4, 1, 64 * GIB), 2.0);
        for (int i = 0; i < 4; i++) {
            s = s.with(placed(fitter.fit(s, shared(2, GIB))));
        }
        Rejection r = rejected(fitter.fit(s, shared(1, GIB)));
        assertEquals(Constraint.SHARED_CPUS, r.constraint());
        assertTrue(r.detail().contains("node 0"), r.detail());
    }

    @Test
    void aVmIsNeverOvercommittedAgainstItself() {
        HostState s = HostState.empty(TestHosts.host(1, 4, 1, 64 * GIB), 16.0);
        assertEquals(Constraint.SHARED_CPUS, rejected(fitter.fit(s, shared(5, GIB))).constraint());
    }

    @Test
    void dedicatedClaimThatWouldSqueezeSharedVcpusIsRefused() {
        HostState s = HostState.empty(TestHosts.host(1, 4, 1, 64 * GIB), 1.0);
        s = s.with(placed(fitter.fit(s, shared(3, GIB))));
        s = s.with(placed(fitter.fit(s, dedicated(1, GIB, ThreadPolicy.PREFER))));
        Rejection r = rejected(fitter.fit(s, dedicated(1, GIB, ThreadPolicy.PREFER)));
        assertEquals(Constraint.DEDICATED_CPUS, r.constraint());
        assertTrue(r.detail().contains("shared vCPUs"), r.detail());
    }

    @Test
    void everyRejectionNamesItsConstraint() {
        HostState two = HostState.empty(TestHosts.host(2, 2, 1, 4 * GIB), 1.0);
        assertEquals(Constraint.HOST_NODES,
                rejected(fitter.fit(two, req(3, 3 * GIB, spec(3, MemoryMode.STRICT, CpuPolicy.SHARED, ThreadPolicy.PREFER)))).constraint());
        NumaSpec onDevice5 = new NumaSpec(0, List.of(), MemoryMode.STRICT, CpuPolicy.SHARED, ThreadPolicy.PREFER, 4, 5);
        assertEquals(Constraint.DEVICE_NODE, rejected(fitter.fit(two, req(1, GIB, onDevice5))).constraint());
        NumaSpec huge = new NumaSpec(0, List.of(), MemoryMode.STRICT, CpuPolicy.SHARED, ThreadPolicy.PREFER, 2048, -1);
        assertEquals(Constraint.HUGE_PAGES, rejected(fitter.fit(two, req(1, GIB, huge))).constraint());
        assertEquals(Constraint.MEMORY, rejected(fitter.fit(two, shared(1, 5 * GIB))).constraint());
        assertEquals(Constraint.DEDICATED_CPUS, rejected(fitter.fit(two, dedicated(5, GIB, ThreadPolicy.PREFER))).constraint());
        HostState hp = HostState.empty(TestHosts.withHugePages(1, 2, 1, 4 * GIB, 2048, 512), 1.0);
        assertEquals(Constraint.REQUEST, rejected(fitter.fit(hp, req(1, GIB + 4096, huge))).constraint());
        assertEquals(Constraint.HUGE_PAGES, rejected(fitter.fit(hp, req(1, 2 * GIB, huge))).constraint());
    }

    @Test
    void rejectionReportsTheConstraintOfTheNodeThatCameClosest() {
        HostState s = HostState.empty(TestHosts.host(2, 2, 1, 4 * GIB), 1.0);
        s = s.with(placed(fitter.fit(s, dedicated(2, GIB, ThreadPolicy.PREFER))));
        // node 0: no pCPU left; node 1: pCPUs but not enough memory -> memory is checked first, CPUs got further on node 0
        s = s.with(placed(fitter.fit(s, shared(1, 3 * GIB + (512L << 20)))));
        Rejection r = rejected(fitter.fit(s, dedicated(1, GIB, ThreadPolicy.PREFER)));
        assertEquals(Constraint.DEDICATED_CPUS, r.constraint(), r.toString());
        assertTrue(r.detail().startsWith("host h node "), r.detail());
    }

    @Test
    void deviceAffinityPutsAGuestNodeOnTheDevicesNode() {
        HostState s = HostState.empty(TestHosts.host(4, 2, 1, 4 * GIB), 1.0);
        NumaSpec onDevice2 = new NumaSpec(0, List.of(), MemoryMode.STRICT, CpuPolicy.DEDICATED, ThreadPolicy.PREFER, 4, 2);
        Placement p = placed(fitter.fit(s, req(2, GIB, onDevice2)));
        assertEquals(List.of(2), p.cpuNodes());
        s = s.with(p);
        Rejection r = rejected(fitter.fit(s, req(1, GIB, onDevice2)));
        assertEquals(Constraint.DEDICATED_CPUS, r.constraint(), "node 2 is full: " + r);
    }

    @Test
    void hugePagesAreTakenFromTheNodesPool() {
        HostState s = HostState.empty(TestHosts.withHugePages(2, 2, 1, 8 * GIB, 2048, 1024), 1.0);
        assertEquals(6 * GIB, s.topology().memory(0), "huge pages are not small-page memory");
        NumaSpec huge = new NumaSpec(0, List.of(), MemoryMode.STRICT, CpuPolicy.DEDICATED, ThreadPolicy.PREFER, 2048, -1);
        Placement p = placed(fitter.fit(s, req(1, GIB, huge)));
        s = s.with(p);
        assertEquals(512, s.freeHugePages(p.cpuNodes().get(0), 2048));
        assertEquals(6 * GIB, s.freeMemory(p.cpuNodes().get(0)));
    }

    @Test
    void preferredSpillsToTheNearestNodeWhenOnlyMemoryIsShort() {
        int[][] dist = {{10, 20, 30}, {20, 10, 30}, {30, 30, 10}};
        HostState s = HostState.empty(TestHosts.withDistances(2, 1, 4 * GIB, dist), 1.0);
        for (int i = 0; i < 3; i++) {
            s = s.with(placed(fitter.fit(s, shared(1, 3 * GIB))));
        }
        NumaSpec strictOne = spec(0, MemoryMode.STRICT, CpuPolicy.SHARED, ThreadPolicy.PREFER);
        assertEquals(Constraint.MEMORY, rejected(fitter.fit(s, req(1, 2 * GIB, strictOne))).constraint());
        NumaSpec pref = spec(0, MemoryMode.PREFERRED, CpuPolicy.SHARED, ThreadPolicy.PREFER);
        Placement p = placed(fitter.fit(s, req(1, 2 * GIB, pref)));
        assertEquals(GIB, p.remoteMemory());
        assertEquals(MemoryPolicy.Mode.PREFERRED, p.memoryPolicy().mode());
        s.with(p);
    }

    @Test
    void packsIntoTheFullerNodeInsteadOfOpeningAnEmptyOne() {
        HostState s = HostState.empty(TestHosts.host(2, 8, 1, 16 * GIB), 1.0);
        Placement a = placed(fitter.fit(s, dedicated(4, 8 * GIB, ThreadPolicy.PREFER)));
        s = s.with(a);
        Placement b = placed(fitter.fit(s, dedicated(2, 4 * GIB, ThreadPolicy.PREFER)));
        assertEquals(a.cpuNodes(), b.cpuNodes());
    }

    @Test
    void minNodesIsTheSmallestSplitThatAnEmptyNodeHolds() {
        HostTopology t = TestHosts.host(4, 4, 2, 8 * GIB);
        assertEquals(1, NumaFitter.minNodes(t, shared(8, 8 * GIB)));
        assertEquals(2, NumaFitter.minNodes(t, shared(9, 8 * GIB)));
        assertEquals(2, NumaFitter.minNodes(t, shared(2, 9 * GIB)));
        assertEquals(2, NumaFitter.minNodes(t, dedicated(8, GIB, ThreadPolicy.ISOLATE)));
        assertEquals(-1, NumaFitter.minNodes(t, shared(8, 40 * GIB)));
    }
    @Test
    void theNodeChosenStrandsNoPcpus() {
        HostState s = HostState.empty(TestHosts.host(2, 4, 1, 8 * GIB), 1.0);
        Placement a = placed(fitter.fit(s, dedicated(2, 5 * GIB, ThreadPolicy.PREFER)));
        s = s.with(a);
        Placement b = placed(fitter.fit(s, dedicated(1, 4 * GIB, ThreadPolicy.PREFER)));
        s = s.with(b);
        int x = a.cells().get(0).hostNode();
        int y = b.cells().get(0).hostNode();
        assertTrue(x != y, "4 GiB do not fit next to 5 GiB on an 8 GiB node");
        // x: 2 pCPUs, 3 GiB free (fuller); y: 3 pCPUs, 4 GiB. On x the VM would leave 1 pCPU with 1 GiB: stranded.
        Placement p = placed(fitter.fit(s, shared(1, 2 * GIB)));
        assertEquals(y, p.cells().get(0).hostNode(), p.toString());
        // with a smaller threshold, 1 GiB is enough for the smallest VM and the fuller node is packed
        Placement q = placed(new NumaFitter(GIB).fit(s, shared(1, 2 * GIB)));
        assertEquals(x, q.cells().get(0).hostNode(), q.toString());
    }
}
