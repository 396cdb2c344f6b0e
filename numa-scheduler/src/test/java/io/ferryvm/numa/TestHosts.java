package io.ferryvm.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.host.HostInventory;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Declared hosts and requests for tests. */
final class TestHosts {
    static final long GIB = 1L << 30;

    private TestHosts() {}

    static HostTopology host(int nodes, int cores, int threads, long memPerNode) {
        return HostTopology.declared("h", nodes, cores, threads, memPerNode);
    }

    /** A declared host whose nodes also hold huge pages of one size. */
    static HostTopology withHugePages(int nodes, int cores, int threads, long memPerNode, int pageKiB, long pagesPerNode) {
        HostInventory d = HostInventory.declared("h", nodes, cores, threads, memPerNode);
        List<HostInventory.NumaNode> ns = new ArrayList<>();
        for (HostInventory.NumaNode n : d.nodes()) {
            ns.add(new HostInventory.NumaNode(n.id(), n.cpus(), n.memoryBytes(), n.freeMemoryBytes(),
                    List.of(new HostInventory.HugePages(pageKiB, pagesPerNode, pagesPerNode)), n.distances()));
        }
        return HostTopology.from(new HostInventory("h", ns, d.cpus(), true), HostTopology.Reserve.NONE);
    }

    /** A declared host with its own SLIT matrix. */
    static HostTopology withDistances(int cores, int threads, long memPerNode, int[][] dist) {
        HostInventory d = HostInventory.declared("h", dist.length, cores, threads, memPerNode);
        List<HostInventory.NumaNode> ns = new ArrayList<>();
        for (HostInventory.NumaNode n : d.nodes()) {
            List<Integer> row = new ArrayList<>();
            for (int v : dist[n.id()]) {
                row.add(v);
            }
            ns.add(new HostInventory.NumaNode(n.id(), n.cpus(), n.memoryBytes(), n.freeMemoryBytes(), n.hugePages(), row));
        }
        return HostTopology.from(new HostInventory("h", ns, d.cpus(), true), HostTopology.Reserve.NONE);
    }

    static NumaSpec spec(int guestNodes, NumaSpec.MemoryMode mem, NumaSpec.CpuPolicy cpus, NumaSpec.ThreadPolicy threads) {
        return new NumaSpec(guestNodes, List.of(), mem, cpus, threads, 4, -1);
    }

    static VmRequest shared(int vcpus, long mem) {
        return new VmRequest(UUID.randomUUID(), vcpus, mem,
                spec(0, NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.SHARED, NumaSpec.ThreadPolicy.PREFER), "");
    }

    static VmRequest dedicated(int vcpus, long mem, NumaSpec.ThreadPolicy tp) {
        return new VmRequest(UUID.randomUUID(), vcpus, mem, spec(0, NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.DEDICATED, tp), "");
    }

    static Placement placed(Fit f) {
        if (f instanceof Rejection r) {
            throw new AssertionError("expected a placement, got " + r);
        }
        return (Placement) f;
    }

    static Rejection rejected(Fit f) {
        if (f instanceof Placement p) {
            throw new AssertionError("expected a rejection, got " + p);
        }
        return (Rejection) f;
    }
}
