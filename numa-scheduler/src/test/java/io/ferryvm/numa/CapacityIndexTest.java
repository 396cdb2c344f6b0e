package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static io.ferryvm.numa.TestHosts.dedicated;
import static io.ferryvm.numa.TestHosts.placed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ferryvm.core.NumaSpec.ThreadPolicy;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CapacityIndexTest {
    private static final CapacityIndex.NodeFilter ALL = (slot, node, met) -> CapacityIndex.ACCEPT;

    private static CapacityIndex index(HostState... hosts) {
        CapacityIndex ix = new CapacityIndex();
        for (HostState h : hosts) {
            ix.scaleFor(h.topo.maxNodeGuestCpus, h.topo.maxNodeMemory);
        }
        for (int i = 0; i < hosts.length; i++) {
            ix.update(i, hosts[i]);
        }
        return ix;
    }

    private static int[] walk(CapacityIndex ix, double cpu, double mem, boolean pack, CapacityIndex.NodeFilter f) {
        int[] out = new int[16];
        ix.begin();
        int n = ix.collect(cpu, mem, Double.MAX_VALUE, Double.MAX_VALUE, pack, f, out, 0, out.length, 0, Integer.MAX_VALUE);
        return Arrays.copyOf(out, n);
    }

    @Test
    void aHostWhosePcpusAndMemoryAreFreeOnDifferentNodesIsNoCandidateForOneNode() {
        NumaFitter fitter = new NumaFitter();
        HostState split = HostState.empty(HostTopology.declared("split", 2, 8, 1, 16 * GIB), 1.0);
        split = split.with(placed(fitter.fit(split, dedicated(8, GIB, ThreadPolicy.PREFER))));
        split = split.with(placed(fitter.fit(split, dedicated(1, 15 * GIB + GIB / 2, ThreadPolicy.PREFER))));
        // node 0: no pCPU, 15 GiB; node 1: 7 pCPUs, 0.5 GiB. Host totals (7 pCPUs, 15.5 GiB) would pass.
        HostState small = HostState.empty(HostTopology.declared("small", 1, 2, 1, 4 * GIB), 1.0);
        CapacityIndex ix = index(split, small);
        assertArrayEquals(new int[] {1}, walk(ix, 1, 2 * GIB, true, ALL));
    }

    @Test
    void packWalksTightestNodesFirstSpreadEmptiestFirstAndEachHostComesOnce() {
        HostState big = HostState.empty(HostTopology.declared("big", 2, 8, 1, 32 * GIB), 1.0);
        HostState small = HostState.empty(HostTopology.declared("small", 1, 2, 1, 4 * GIB), 1.0);
        CapacityIndex ix = index(big, small);
        assertArrayEquals(new int[] {1, 0}, walk(ix, 1, GIB, true, ALL), "pack: the small host first, the big one once");
        assertArrayEquals(new int[] {0, 1}, walk(ix, 1, GIB, false, ALL), "spread: the big host first");
        assertArrayEquals(new int[] {0}, walk(ix, 4, GIB, true, ALL), "only the big host has a node with 4 pCPUs");
    }

    @Test
    void filtersSkipANodeOrAWholeHostAndRemovedHostsAreGone() {
        HostState a = HostState.empty(HostTopology.declared("a", 2, 4, 1, 8 * GIB), 1.0);
        HostState b = HostState.empty(HostTopology.declared("b", 2, 4, 1, 8 * GIB), 1.0);
        CapacityIndex ix = index(a, b);
        assertArrayEquals(new int[] {0}, walk(ix, 1, GIB, true, (slot, node, met) -> slot == 1 ? CapacityIndex.SKIP_HOST : CapacityIndex.ACCEPT));
        int[] second = walk(ix, 1, GIB, true, (slot, node, met) -> node == 1 ? CapacityIndex.ACCEPT : CapacityIndex.SKIP_NODE);
        Arrays.sort(second);
        assertArrayEquals(new int[] {0, 1}, second, "skipping node 0 leaves node 1 to report each host");
        ix.remove(0);
        assertArrayEquals(new int[] {1}, walk(ix, 1, GIB, true, ALL));
        ix.update(0, a);
        assertEquals(2, walk(ix, 1, GIB, true, ALL).length);
        ix.begin();
        assertEquals(1, ix.collect(1, GIB, Double.MAX_VALUE, Double.MAX_VALUE, true, (slot, node, met) -> CapacityIndex.SKIP_NODE, new int[4], 1, 4, 0, 3),
                "three visits, none accepted");
        int[] twice = walk(ix, 1, GIB, true, (slot, node, met) -> met == 1 ? CapacityIndex.ACCEPT : CapacityIndex.COUNT);
        Arrays.sort(twice);
        assertArrayEquals(new int[] {0, 1}, twice, "each host accepted when its second node is met");
        assertEquals(0, walk(ix, 1, GIB, true, (slot, node, met) -> met == 2 ? CapacityIndex.ACCEPT : CapacityIndex.COUNT).length,
                "no host has a third node");
    }
}
