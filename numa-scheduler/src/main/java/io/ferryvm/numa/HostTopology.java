package io.ferryvm.numa;

import io.ferryvm.core.host.HostInventory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A host as the scheduler sees it: NUMA nodes with their CPUs grouped into cores (SMT siblings), the
 * small-page memory and huge pages guests may use, and SLIT distances. Immutable; built from
 * engine-core's inventory (detected from sysfs or declared) minus what the host keeps for itself.
 *
 * <p>Implementation notes. Node and CPU ids on real hosts can be sparse (offline CPUs, memory-only
 * nodes), so everything inside is indexed densely (node index, CPU index, core index) and the public
 * methods speak real ids. Memory for small pages is MemTotal minus the huge-page pools minus the
 * reservation: the kernel counts huge pages in MemTotal.
 */
public final class HostTopology {
    /** What the host keeps for itself on every node (Nova's reserved_host_cpus / _memory_mb). */
    public record Reserve(int cpusPerNode, long memoryPerNode) {
        public static final Reserve NONE = new Reserve(0, 0);

        public Reserve {
            if (cpusPerNode < 0 || memoryPerNode < 0) {
                throw new NumaException(NumaException.Kind.INVALID, "negative host reservation " + cpusPerNode + " CPUs, " + memoryPerNode + " bytes");
            }
        }
    }

    final String name;
    final int[] nodeIds;
    final int[][] nodeCpus;
    final int[][] nodeCores;
    final int[] cpuIds;
    final int[] cpuNode;
    final int[] cpuCore;
    final int[][] coreCpus;
    final int[] coreNode;
    final boolean[] reservedCpu;
    final long[] nodeMemory;
    final int[] pageSizes;
    final long[][] hugePages;
    final int[][] distance;
    final int[] nodeGuestCpus;
    final int maxThreadsPerCore;
    final int maxNodeGuestCpus;
    final long maxNodeMemory;
    private final int guestCpuTotal;
    private final long memoryTotal;
    private final Map<Integer, Integer> nodeIndex = new HashMap<>();
    private final Map<Integer, Integer> cpuIndex = new HashMap<>();

    private HostTopology(HostInventory inv, Reserve reserve) {
        this.name = inv.hostname();
        List<HostInventory.NumaNode> nodes = new ArrayList<>(inv.nodes());
        nodes.sort(Comparator.comparingInt(HostInventory.NumaNode::id));
        int n = nodes.size();
        nodeIds = new int[n];
        for (int i = 0; i < n; i++) {
            nodeIds[i] = nodes.get(i).id();
            nodeIndex.put(nodeIds[i], i);
        }
        Map<Integer, HostInventory.Cpu> byId = new HashMap<>();
        for (HostInventory.Cpu c : inv.cpus()) {
            byId.put(c.id(), c);
        }
        // CPUs in (node, id) order; a CPU the node lists but the CPU table lacks is its own core.
        List<Integer> ids = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int id : new TreeSet<>(nodes.get(i).cpus())) {
                if (!cpuIndex.containsKey(id)) {
                    cpuIndex.put(id, ids.size());
                    ids.add(id);
                    owners.add(i);
                }
            }
        }
        cpuIds = ids.stream().mapToInt(Integer::intValue).toArray();
        cpuNode = owners.stream().mapToInt(Integer::intValue).toArray();
        cpuCore = new int[cpuIds.length];
        Map<String, List<Integer>> cores = new LinkedHashMap<>();
        for (int c = 0; c < cpuIds.length; c++) {
            HostInventory.Cpu cpu = byId.get(cpuIds[c]);
            int first = cpuIds[c];
            if (cpu != null) {
                for (int sib : cpu.siblings()) {
                    Integer si = cpuIndex.get(sib);
                    if (si != null && cpuNode[si] == cpuNode[c] && sib < first) {
                        first = sib;
                    }
                }
            }
            cores.computeIfAbsent(cpuNode[c] + "/" + first, k -> new ArrayList<>()).add(c);
        }
        coreCpus = new int[cores.size()][];
        coreNode = new int[cores.size()];
        int k = 0;
        int maxThreads = 1;
        for (List<Integer> members : cores.values()) {
            coreCpus[k] = members.stream().mapToInt(Integer::intValue).toArray();
            coreNode[k] = cpuNode[members.get(0)];
            for (int c : members) {
                cpuCore[c] = k;
            }
            maxThreads = Math.max(maxThreads, members.size());
            k++;
        }
        maxThreadsPerCore = maxThreads;
        nodeCpus = new int[n][];
        nodeCores = new int[n][];
        for (int i = 0; i < n; i++) {
            final int node = i;
            nodeCpus[i] = java.util.stream.IntStream.range(0, cpuIds.length).filter(c -> cpuNode[c] == node).toArray();
            nodeCores[i] = java.util.stream.IntStream.range(0, coreCpus.length).filter(c -> coreNode[c] == node).toArray();
        }
        // The host's own CPUs: whole cores first, lowest ids first, on every node.
        reservedCpu = new boolean[cpuIds.length];
        nodeGuestCpus = new int[n];
        for (int i = 0; i < n; i++) {
            int left = reserve.cpusPerNode();
            for (int core : nodeCores[i]) {
                for (int c : coreCpus[core]) {
                    if (left > 0) {
                        reservedCpu[c] = true;
                        left--;
                    }
                }
            }
            nodeGuestCpus[i] = (int) Arrays.stream(nodeCpus[i]).filter(c -> !reservedCpu[c]).count();
        }
        TreeSet<Integer> sizes = new TreeSet<>();
        for (HostInventory.NumaNode node : nodes) {
            for (HostInventory.HugePages h : node.hugePages()) {
                sizes.add(h.sizeKiB());
            }
        }
        pageSizes = sizes.stream().mapToInt(Integer::intValue).toArray();
        hugePages = new long[n][pageSizes.length];
        nodeMemory = new long[n];
        for (int i = 0; i < n; i++) {
            long huge = 0;
            for (HostInventory.HugePages h : nodes.get(i).hugePages()) {
                hugePages[i][Arrays.binarySearch(pageSizes, h.sizeKiB())] = h.total();
                huge += h.total() * h.sizeKiB() * 1024L;
            }
            nodeMemory[i] = Math.max(0, nodes.get(i).memoryBytes() - huge - reserve.memoryPerNode()) & ~4095L;
        }
        guestCpuTotal = Arrays.stream(nodeGuestCpus).sum();
        memoryTotal = Arrays.stream(nodeMemory).sum();
        maxNodeGuestCpus = Arrays.stream(nodeGuestCpus).max().orElse(0);
        maxNodeMemory = Arrays.stream(nodeMemory).max().orElse(0);
        distance = new int[n][n];
        for (int i = 0; i < n; i++) {
            List<Integer> d = nodes.get(i).distances();
            for (int j = 0; j < n; j++) {
                distance[i][j] = d.size() == n ? d.get(j) : (i == j ? 10 : 20);
            }
        }
    }

    /** The scheduler's view of an inventory, minus the host's own reservation on every node. */
    public static HostTopology from(HostInventory inventory, Reserve reserve) {
        return new HostTopology(inventory, reserve);
    }

    /** A declared host (engine-core's Linux-style numbering), nothing reserved. */
    public static HostTopology declared(String name, int nodes, int coresPerNode, int threadsPerCore, long memoryPerNode) {
        return from(HostInventory.declared(name, nodes, coresPerNode, threadsPerCore, memoryPerNode), Reserve.NONE);
    }

    public String name() {
        return name;
    }

    /** Node ids, ascending. */
    public List<Integer> nodes() {
        return Arrays.stream(nodeIds).boxed().toList();
    }

    public int nodeCount() {
        return nodeIds.length;
    }

    /** CPUs of a node that guests may use (the reservation excluded), ascending. */
    public List<Integer> guestCpus(int node) {
        return Arrays.stream(nodeCpus[index(node)]).filter(c -> !reservedCpu[c]).map(c -> cpuIds[c]).boxed().toList();
    }

    /** The node's cores as lists of sibling CPU ids (reserved CPUs included). */
    public List<List<Integer>> cores(int node) {
        List<List<Integer>> out = new ArrayList<>();
        for (int core : nodeCores[index(node)]) {
            out.add(Arrays.stream(coreCpus[core]).map(c -> cpuIds[c]).boxed().toList());
        }
        return out;
    }

    public boolean reserved(int cpu) {
        return reservedCpu[cpuIndexOf(cpu)];
    }

    /** Small-page memory guests may use on a node. */
    public long memory(int node) {
        return nodeMemory[index(node)];
    }

    /** Huge pages of this size on a node (0 when the host has none of that size). */
    public long hugePages(int node, int sizeKiB) {
        int p = Arrays.binarySearch(pageSizes, sizeKiB);
        return p < 0 ? 0 : hugePages[index(node)][p];
    }

    public int distance(int from, int to) {
        return distance[index(from)][index(to)];
    }

    public int threadsPerCore() {
        return maxThreadsPerCore;
    }

    /** CPUs guests may use on the whole host. */
    public int guestCpuCount() {
        return guestCpuTotal;
    }

    public long totalMemory() {
        return memoryTotal;
    }

    int index(int node) {
        Integer i = nodeIndex.get(node);
        if (i == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "host " + name + " has no NUMA node " + node);
        }
        return i;
    }

    /** Dense index of a node id, or -1. */
    int indexOrMinus(int node) {
        Integer i = nodeIndex.get(node);
        return i == null ? -1 : i;
    }

    int cpuIndexOf(int cpu) {
        Integer i = cpuIndex.get(cpu);
        if (i == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "host " + name + " has no CPU " + cpu);
        }
        return i;
    }

    int pageIndex(int sizeKiB) {
        return Arrays.binarySearch(pageSizes, sizeKiB);
    }

    /** Same hardware and reservation (a placer keeps its allocations across equal inventories). */
    boolean sameShape(HostTopology o) {
        return name.equals(o.name) && Arrays.equals(cpuIds, o.cpuIds) && Arrays.equals(cpuNode, o.cpuNode)
                && Arrays.equals(nodeIds, o.nodeIds) && Arrays.equals(reservedCpu, o.reservedCpu)
                && Arrays.deepEquals(coreCpus, o.coreCpus) && Arrays.deepEquals(hugePages, o.hugePages)
                && Arrays.equals(pageSizes, o.pageSizes);
    }

    @Override
    public String toString() {
        return "HostTopology[" + name + ": " + nodeIds.length + " nodes, " + cpuIds.length + " CPUs, " + coreCpus.length
                + " cores, " + (totalMemory() >> 20) + " MiB]";
    }
}
