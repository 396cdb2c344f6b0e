package io.ferryvm.core.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a host offers: its NUMA nodes (CPUs, memory, huge pages, distances) and CPUs with their
 * (package, core) identity and SMT siblings. Detected from OSHI and sysfs, or declared for a simulated
 * host (many simulated hosts share one machine in tests and in {@code ferry up}).
 */
public record HostInventory(String hostname, List<NumaNode> nodes, List<Cpu> cpus, boolean simulated) {

    /** A logical CPU; siblings are the logical CPUs on the same core, itself included. */
    public record Cpu(int id, int packageId, int coreId, int node, List<Integer> siblings) {
        public Cpu {
            siblings = List.copyOf(siblings);
        }
    }

    /** Huge pages of one size on a node. */
    public record HugePages(int sizeKiB, long total, long free) {}

    /** A NUMA node; distances[j] is the SLIT distance to node j (10 = local). */
    public record NumaNode(int id, List<Integer> cpus, long memoryBytes, long freeMemoryBytes, List<HugePages> hugePages,
            List<Integer> distances) {
        public NumaNode {
            cpus = List.copyOf(cpus);
            hugePages = List.copyOf(hugePages);
            distances = List.copyOf(distances);
        }
    }

    public HostInventory {
        Objects.requireNonNull(hostname, "hostname");
        nodes = List.copyOf(nodes);
        cpus = List.copyOf(cpus);
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("host " + hostname + " has no NUMA node");
        }
    }

    public long totalMemory() {
        return nodes.stream().mapToLong(NumaNode::memoryBytes).sum();
    }

    public int cpuCount() {
        return cpus.size();
    }

    public NumaNode node(int id) {
        return nodes.stream().filter(n -> n.id() == id).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("host " + hostname + " has no NUMA node " + id));
    }

    /**
     * A declared topology: nodes x cores x threads, Linux numbering (CPU c on core c mod cores; the second
     * SMT thread of core k is CPU k + total cores), SLIT distances 10 local and 21 remote.
     */
    public static HostInventory declared(String hostname, int nodeCount, int coresPerNode, int threadsPerCore,
            long memoryPerNode) {
        if (nodeCount < 1 || coresPerNode < 1 || threadsPerCore < 1 || threadsPerCore > 8 || memoryPerNode < (1L << 20)) {
            throw new IllegalArgumentException("declared topology " + nodeCount + " nodes x " + coresPerNode + " cores x "
                    + threadsPerCore + " threads with " + memoryPerNode + " bytes per node is not a host");
        }
        int totalCores = nodeCount * coresPerNode;
        List<Cpu> cpus = new ArrayList<>();
        List<List<Integer>> nodeCpus = new ArrayList<>();
        for (int n = 0; n < nodeCount; n++) {
            nodeCpus.add(new ArrayList<>());
        }
        for (int t = 0; t < threadsPerCore; t++) {
            for (int core = 0; core < totalCores; core++) {
                int id = t * totalCores + core;
                int node = core / coresPerNode;
                List<Integer> sib = new ArrayList<>();
                for (int s = 0; s < threadsPerCore; s++) {
                    sib.add(s * totalCores + core);
                }
                cpus.add(new Cpu(id, node, core, node, sib));
                nodeCpus.get(node).add(id);
            }
        }
        List<NumaNode> nodes = new ArrayList<>();
        for (int n = 0; n < nodeCount; n++) {
            List<Integer> dist = new ArrayList<>();
            for (int m = 0; m < nodeCount; m++) {
                dist.add(n == m ? 10 : 21);
            }
            nodes.add(new NumaNode(n, nodeCpus.get(n).stream().sorted().toList(), memoryPerNode, memoryPerNode, List.of(), dist));
        }
        cpus.sort(java.util.Comparator.comparingInt(Cpu::id));
        return new HostInventory(hostname, nodes, cpus, true);
    }
}
