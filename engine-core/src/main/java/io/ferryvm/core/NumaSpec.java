package io.ferryvm.core;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a VM asks of NUMA placement (Nova's hw:numa_* and hw:cpu_* flavor keys, libvirt's
 * numatune/cputune): guest NUMA nodes (0 = let the scheduler choose: one host node when it fits),
 * optionally an explicit split, the memory policy, dedicated or shared CPUs, the SMT thread policy,
 * the page size and the host node a passed-through device sits on (-1: none).
 */
public record NumaSpec(int guestNodes, List<GuestNode> nodes, MemoryMode memory, CpuPolicy cpus,
        ThreadPolicy threads, int pageSizeKiB, int deviceNode) {

    public enum MemoryMode { STRICT, PREFERRED, INTERLEAVE }

    public enum CpuPolicy { SHARED, DEDICATED }

    /** prefer: siblings welcome; isolate: a dedicated vCPU gets a whole core; require: vCPUs in sibling pairs. */
    public enum ThreadPolicy { PREFER, ISOLATE, REQUIRE }

    /** One guest NUMA node of an explicit split: its vCPUs and memory. */
    public record GuestNode(List<Integer> vcpus, long memoryBytes) {
        public GuestNode {
            vcpus = List.copyOf(vcpus);
            if (vcpus.isEmpty() || memoryBytes <= 0) {
                throw new IllegalArgumentException("a guest NUMA node needs vCPUs and memory");
            }
        }
    }

    public static final NumaSpec DEFAULT =
            new NumaSpec(0, List.of(), MemoryMode.PREFERRED, CpuPolicy.SHARED, ThreadPolicy.PREFER, 4, -1);

    public NumaSpec {
        nodes = List.copyOf(nodes);
        Objects.requireNonNull(memory, "memory policy");
        Objects.requireNonNull(cpus, "CPU policy");
        Objects.requireNonNull(threads, "thread policy");
        if (guestNodes < 0 || guestNodes > 64) {
            throw new IllegalArgumentException("guest NUMA nodes " + guestNodes + " outside 0..64");
        }
        if (!nodes.isEmpty() && nodes.size() != guestNodes) {
            throw new IllegalArgumentException("explicit split names " + nodes.size() + " guest nodes, guestNodes is " + guestNodes);
        }
        if (pageSizeKiB != 4 && pageSizeKiB != 2048 && pageSizeKiB != 1048576) {
            throw new IllegalArgumentException("page size " + pageSizeKiB + " KiB: use 4, 2048 or 1048576");
        }
        if (deviceNode < -1) {
            throw new IllegalArgumentException("device NUMA node " + deviceNode + " < -1");
        }
    }

    /** Checks the explicit split against the VM's size: every vCPU once, memory adding up. */
    void checkAgainst(String vm, int vcpus, long memoryBytes) {
        if (guestNodes > vcpus) {
            throw new IllegalArgumentException(vm + ": " + guestNodes + " guest NUMA nodes for " + vcpus + " vCPUs");
        }
        if (nodes.isEmpty()) {
            return;
        }
        Set<Integer> seen = new HashSet<>();
        long mem = 0;
        for (GuestNode n : nodes) {
            for (int v : n.vcpus()) {
                if (v < 0 || v >= vcpus || !seen.add(v)) {
                    throw new IllegalArgumentException(vm + ": NUMA split names vCPU " + v + " twice or out of 0.." + (vcpus - 1));
                }
            }
            mem += n.memoryBytes();
        }
        if (seen.size() != vcpus) {
            throw new IllegalArgumentException(vm + ": NUMA split covers " + seen.size() + " of " + vcpus + " vCPUs");
        }
        if (mem != memoryBytes) {
            throw new IllegalArgumentException(vm + ": NUMA split has " + mem + " bytes of memory, the VM " + memoryBytes);
        }
    }
}
