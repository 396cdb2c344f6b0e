package io.ferryvm.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.machine.MemoryPolicy;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Where a VM goes on one host: a host node per guest node with its vCPUs and (dedicated) pCPUs, the
 * memory taken on each host node, and the memory policy. {@code cost} ranks placements (lower is
 * better: fewer and closer nodes, less stranded capacity); it means nothing across requests.
 */
public record Placement(VmRequest request, String host, List<Cell> cells, Map<Integer, Long> memoryByNode,
        MemoryPolicy memoryPolicy, double cost) implements Fit {

    /**
     * One guest NUMA node on one host node. For dedicated CPUs {@code cpus.get(i)} is the pCPU of
     * {@code vcpus.get(i)} and {@code isolated} the sibling threads kept idle for it (thread policy
     * isolate); shared vCPUs have no pCPUs of their own (they float over the node's shared pCPUs).
     */
    public record Cell(int guestNode, int hostNode, List<Integer> vcpus, List<Integer> cpus, List<Integer> isolated,
            long memoryBytes) {
        public Cell {
            vcpus = List.copyOf(vcpus);
            cpus = List.copyOf(cpus);
            isolated = List.copyOf(isolated);
            if (!cpus.isEmpty() && cpus.size() != vcpus.size()) {
                throw new NumaException(NumaException.Kind.INVALID,
                        "guest node " + guestNode + ": " + cpus.size() + " pCPUs for " + vcpus.size() + " vCPUs");
            }
        }
    }

    public Placement {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(host, "host");
        cells = List.copyOf(cells);
        memoryByNode = Map.copyOf(new TreeMap<>(memoryByNode));
        Objects.requireNonNull(memoryPolicy, "memoryPolicy");
        long mem = memoryByNode.values().stream().mapToLong(Long::longValue).sum();
        int vcpus = cells.stream().mapToInt(c -> c.vcpus().size()).sum();
        if (mem != request.memoryBytes() || vcpus != request.vcpus()) {
            throw new NumaException(NumaException.Kind.INVALID, "placement of VM " + request.id() + " on " + host + " holds "
                    + vcpus + " vCPUs and " + mem + " bytes, the VM has " + request.vcpus() + " and " + request.memoryBytes());
        }
    }

    public UUID vm() {
        return request.id();
    }

    public boolean dedicated() {
        return request.numa().cpus() == NumaSpec.CpuPolicy.DEDICATED;
    }

    /** Host nodes that run the VM's vCPUs, in guest-node order. */
    public List<Integer> cpuNodes() {
        return cells.stream().map(Cell::hostNode).toList();
    }

    /** Memory held on host nodes where none of the VM's vCPUs run (PREFERRED spill-over). */
    public long remoteMemory() {
        List<Integer> local = cpuNodes();
        long remote = 0;
        for (Map.Entry<Integer, Long> e : memoryByNode.entrySet()) {
            if (!local.contains(e.getKey())) {
                remote += e.getValue();
            }
        }
        return remote;
    }

    /** The same placement under another cost (the cluster adds its host-level term). */
    Placement withCost(double c) {
        return new Placement(request, host, cells, memoryByNode, memoryPolicy, c);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Placement[").append(request.id()).append(" on ").append(host);
        for (Cell c : cells) {
            b.append(", g").append(c.guestNode()).append("->n").append(c.hostNode());
            if (!c.cpus().isEmpty()) {
                b.append(" cpus ").append(c.cpus());
            } else {
                b.append(" shared x").append(c.vcpus().size());
            }
        }
        return b.append(", mem ").append(memoryByNode).append(", ").append(memoryPolicy).append(']').toString();
    }
}
