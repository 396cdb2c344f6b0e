package io.ferryvm.numa;

import java.util.Collection;

/**
 * How badly a set of hosts is used. Stranded: free pCPUs on nodes whose free memory is below the
 * smallest VM's, and free memory on nodes with less than one free pCPU (the research note's metric).
 * Remote memory: VM memory on nodes where none of its vCPUs run. Split VMs: VMs on more host nodes than
 * their size needs on that host.
 */
public record Fragmentation(double strandedCpus, long strandedMemory, long remoteMemory, int splitVms, int vms) {

    /** Measures hosts; {@code minVmMemory} is the smallest VM's memory (what a node must have free to be usable). */
    public static Fragmentation of(Collection<HostState> hosts, long minVmMemory) {
        double sc = 0;
        long sm = 0;
        long remote = 0;
        int split = 0;
        int vms = 0;
        for (HostState h : hosts) {
            double[] s = stranded(h, minVmMemory);
            sc += s[0];
            sm += (long) s[1];
            for (Placement p : h.placements()) {
                vms++;
                remote += p.remoteMemory();
                if (excessNodes(h.topo, p) > 0) {
                    split++;
                }
            }
        }
        return new Fragmentation(sc, sm, remote, split, vms);
    }

    /** {stranded pCPUs, stranded bytes} of one host. */
    static double[] stranded(HostState h, long minVmMemory) {
        double cpus = 0;
        double mem = 0;
        for (int n = 0; n < h.topo.nodeCount(); n++) {
            double fc = Math.max(0, h.freeCpus(n, 0));
            long fm = h.topo.nodeMemory[n] - h.memUsed[n];
            if (fm < minVmMemory) {
                cpus += fc;
            }
            if (fc < 1) {
                mem += fm;
            }
        }
        return new double[] {cpus, mem};
    }

    /** Host nodes a placement uses beyond what its size needs on that host (0 for fixed guest NUMA layouts). */
    static int excessNodes(HostTopology t, Placement p) {
        VmRequest r = p.request();
        if (r.numa().guestNodes() > 0 || !r.numa().nodes().isEmpty()) {
            return 0;
        }
        int min = NumaFitter.minNodes(t, r);
        return min < 0 ? 0 : Math.max(0, p.cells().size() - min);
    }

    @Override
    public String toString() {
        return String.format("stranded %.1f pCPUs / %d GiB, remote %d MiB, %d of %d VMs split needlessly", strandedCpus,
                strandedMemory >> 30, remoteMemory >> 20, splitVms, vms);
    }
}
