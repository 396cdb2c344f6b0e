package io.ferryvm.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * What is taken on one host: dedicated pCPUs, shared vCPUs per node, memory and huge pages per node, and
 * the placements that took them. Immutable: {@link #with} and {@link #without} return a new state with a
 * higher version, so a cluster placer can fit against a snapshot and claim with a compare-and-set.
 *
 * <p>Implementation notes. Each guest CPU is FREE (in the node's shared pool), DEDICATED to one vCPU,
 * ISOLATED (an idle sibling kept for an isolate-policy vCPU) or RESERVED for the host. Shared vCPUs float
 * over their node's pool, which shrinks when dedicated vCPUs arrive; the invariant checked on every
 * claim is {@code shared(n) <= floor(pool(n) * overcommit)}, so a dedicated claim can also be refused
 * because it would over-commit the shared vCPUs already there. {@link #with} re-checks everything a
 * fitter promised: it is the one place that guarantees nothing is ever double-booked.
 */
public final class HostState {
    static final byte FREE = 0;
    static final byte DEDICATED = 1;
    static final byte ISOLATED = 2;
    static final byte RESERVED = 3;

    final HostTopology topo;
    final double overcommit;
    final byte[] cpuUse;
    final int[] pool;
    final int[] shared;
    final long[] memUsed;
    final long[][] hugeUsed;
    private final Map<UUID, Placement> placements;
    private final Map<String, Integer> groups;
    private final long version;
    private final double freeCpus;
    private final long freeMemory;

    private HostState(HostTopology topo, double overcommit, byte[] cpuUse, int[] pool, int[] shared, long[] memUsed,
            long[][] hugeUsed, Map<UUID, Placement> placements, Map<String, Integer> groups, long version) {
        this.topo = topo;
        this.overcommit = overcommit;
        this.cpuUse = cpuUse;
        this.pool = pool;
        this.shared = shared;
        this.memUsed = memUsed;
        this.hugeUsed = hugeUsed;
        this.placements = placements;
        this.groups = groups;
        this.version = version;
        double fc = 0;
        long fm = 0;
        for (int n = 0; n < pool.length; n++) {
            fc += freeCpus(n, 0);
            fm += topo.nodeMemory[n] - memUsed[n];
        }
        this.freeCpus = fc;
        this.freeMemory = fm;
    }

    /** A host with nothing placed; shared vCPUs may over-commit the pool by {@code cpuOvercommit} (Nova's cpu_allocation_ratio). */
    public static HostState empty(HostTopology topology, double cpuOvercommit) {
        if (!(cpuOvercommit >= 1.0) || cpuOvercommit > 64) {
            throw new NumaException(NumaException.Kind.INVALID, "CPU overcommit ratio " + cpuOvercommit + " outside 1..64");
        }
        int n = topology.nodeCount();
        byte[] use = new byte[topology.cpuIds.length];
        for (int c = 0; c < use.length; c++) {
            use[c] = topology.reservedCpu[c] ? RESERVED : FREE;
        }
        return new HostState(topology, cpuOvercommit, use, topology.nodeGuestCpus.clone(), new int[n], new long[n],
                new long[n][topology.pageSizes.length], Map.of(), Map.of(), 0);
    }

    public HostTopology topology() {
        return topo;
    }

    public String host() {
        return topo.name;
    }

    public double cpuOvercommit() {
        return overcommit;
    }

    /** Increases with every claim and release (the compare-and-set token of cluster placers). */
    public long version() {
        return version;
    }

    public Collection<Placement> placements() {
        return Collections.unmodifiableCollection(placements.values());
    }

    public Optional<Placement> placement(UUID vm) {
        return Optional.ofNullable(placements.get(vm));
    }

    public boolean holds(UUID vm) {
        return placements.containsKey(vm);
    }

    /** True if a member of this anti-affinity group is on the host. */
    public boolean hasGroup(String group) {
        return !group.isEmpty() && groups.containsKey(group);
    }

    /** True if a CPU is in its node's shared pool (not dedicated, isolated or reserved). */
    public boolean isFree(int cpu) {
        return cpuUse[topo.cpuIndexOf(cpu)] == FREE;
    }

    /** The node's shared pool: the CPUs shared vCPUs float over. */
    public List<Integer> sharedCpus(int node) {
        List<Integer> out = new ArrayList<>();
        for (int c : topo.nodeCpus[topo.index(node)]) {
            if (cpuUse[c] == FREE) {
                out.add(topo.cpuIds[c]);
            }
        }
        return out;
    }

    public int sharedVcpus(int node) {
        return shared[topo.index(node)];
    }

    /** Free pCPU-equivalents of a node: pool CPUs minus shared vCPUs / overcommit. */
    public double freeCpus(int node) {
        return freeCpus(topo.index(node), 0);
    }

    public long freeMemory(int node) {
        int n = topo.index(node);
        return topo.nodeMemory[n] - memUsed[n];
    }

    public long freeHugePages(int node, int sizeKiB) {
        int p = topo.pageIndex(sizeKiB);
        return p < 0 ? 0 : topo.hugePages[topo.index(node)][p] - hugeUsed[topo.index(node)][p];
    }

    /** Free pCPU-equivalents of the whole host. */
    public double freeCpus() {
        return freeCpus;
    }

    /** Free small-page memory of the whole host. */
    public long freeMemory() {
        return freeMemory;
    }

    /** True if k nodes each have this many free pCPU-equivalents and bytes (necessary for a k-node even split). */
    boolean nodesFit(int k, double cpus, long bytes) {
        int found = 0;
        for (int n = 0; n < pool.length && found < k; n++) {
            if (freeCpus(n, 0) + 1e-9 >= cpus && topo.nodeMemory[n] - memUsed[n] >= bytes) {
                found++;
            }
        }
        return found >= k;
    }

    /**
     * True if a node with (freeCpus, freeMemory) that gives (cpus, bytes) to a VM is left clean: it
     * keeps at least one pCPU and the smallest VM's memory ({@code strandMemory}), or it is exhausted,
     * with less than one pCPU and less than two smallest VMs' memory. Anything else strands what is left:
     * pCPUs no VM has the memory for, or memory no VM has a pCPU for. The tolerance when exhausted is
     * there because node sizes rarely divide by VM sizes (in the benchmark every node has an odd number
     * of GiB and every VM an even one), so a node often cannot be filled to the last byte.
     */
    static boolean leavesClean(double freeCpus, long freeMemory, double cpus, long bytes, long strandMemory) {
        long memLeft = freeMemory - bytes;
        return freeCpus - cpus >= 1 - 1e-9 ? memLeft >= strandMemory : memLeft < 2 * strandMemory;
    }

    double freeCpus(int n, int extraShared) {
        return pool[n] - (shared[n] + extraShared) / overcommit;
    }

    int sharedCapacity(int n, int poolSize) {
        return (int) Math.floor(poolSize * overcommit + 1e-9);
    }

    /**
     * Where the VM's vCPUs may run now and its memory policy: a dedicated vCPU on its pCPU, a shared one
     * on its node's current pool (which changes as dedicated VMs come and go).
     */
    public Binding bindingOf(UUID vm) {
        Placement p = placements.get(vm);
        if (p == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "no VM " + vm + " on host " + topo.name);
        }
        List<List<Integer>> cpus = new ArrayList<>(Collections.nCopies(p.request().vcpus(), List.<Integer>of()));
        for (Placement.Cell cell : p.cells()) {
            List<Integer> pool = cell.cpus().isEmpty() ? sharedCpus(cell.hostNode()) : null;
            for (int i = 0; i < cell.vcpus().size(); i++) {
                cpus.set(cell.vcpus().get(i), pool != null ? pool : List.of(cell.cpus().get(i)));
            }
        }
        return new Binding(cpus, p.memoryPolicy());
    }

    /** Claims a placement; throws OVERCOMMIT if anything it takes is no longer free. */
    public HostState with(Placement p) {
        if (!p.host().equals(topo.name)) {
            throw new NumaException(NumaException.Kind.INVALID, "placement for host " + p.host() + " applied to " + topo.name);
        }
        if (placements.containsKey(p.vm())) {
            throw new NumaException(NumaException.Kind.ALREADY_EXISTS, "VM " + p.vm() + " is already placed on " + topo.name);
        }
        String group = p.request().group();
        if (hasGroup(group)) {
            throw overcommit(p, "anti-affinity group '" + group + "' already has a member here");
        }
        byte[] use = cpuUse.clone();
        int[] pl = pool.clone();
        int[] sh = shared.clone();
        long[] mem = memUsed.clone();
        long[][] huge = deepClone(hugeUsed);
        apply(p, use, pl, sh, mem, huge, +1);
        checkCells(p, use);
        for (int n = 0; n < pl.length; n++) {
            if (sh[n] > sharedCapacity(n, pl[n])) {
                throw overcommit(p, "node " + topo.nodeIds[n] + " would hold " + sh[n] + " shared vCPUs on " + pl[n]
                        + " shared pCPUs at overcommit " + overcommit);
            }
            if (mem[n] > topo.nodeMemory[n]) {
                throw overcommit(p, "node " + topo.nodeIds[n] + " memory " + mem[n] + " > " + topo.nodeMemory[n]);
            }
            for (int s = 0; s < huge[n].length; s++) {
                if (huge[n][s] > topo.hugePages[n][s]) {
                    throw overcommit(p, "node " + topo.nodeIds[n] + " " + topo.pageSizes[s] + " KiB pages " + huge[n][s] + " > "
                            + topo.hugePages[n][s]);
                }
            }
        }
        Map<UUID, Placement> ps = new HashMap<>(placements);
        ps.put(p.vm(), p);
        Map<String, Integer> gs = groups;
        if (!group.isEmpty()) {
            gs = new HashMap<>(groups);
            gs.merge(group, 1, Integer::sum);
        }
        return new HostState(topo, overcommit, use, pl, sh, mem, huge, Collections.unmodifiableMap(ps),
                Collections.unmodifiableMap(gs), version + 1);
    }

    /** Releases a VM's placement. */
    public HostState without(UUID vm) {
        Placement p = placements.get(vm);
        if (p == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "no VM " + vm + " on host " + topo.name);
        }
        byte[] use = cpuUse.clone();
        int[] pl = pool.clone();
        int[] sh = shared.clone();
        long[] mem = memUsed.clone();
        long[][] huge = deepClone(hugeUsed);
        apply(p, use, pl, sh, mem, huge, -1);
        Map<UUID, Placement> ps = new HashMap<>(placements);
        ps.remove(vm);
        Map<String, Integer> gs = groups;
        String group = p.request().group();
        if (!group.isEmpty()) {
            gs = new HashMap<>(groups);
            gs.computeIfPresent(group, (g, c) -> c == 1 ? null : c - 1);
        }
        return new HostState(topo, overcommit, use, pl, sh, mem, huge, Collections.unmodifiableMap(ps),
                Collections.unmodifiableMap(gs), version + 1);
    }

    private void apply(Placement p, byte[] use, int[] pl, int[] sh, long[] mem, long[][] huge, int sign) {
        Set<Integer> nodes = new HashSet<>();
        for (Placement.Cell cell : p.cells()) {
            int n = topo.index(cell.hostNode());
            if (!nodes.add(n)) {
                throw new NumaException(NumaException.Kind.INVALID, "placement of " + p.vm() + " puts two guest nodes on host node " + cell.hostNode());
            }
            if (cell.cpus().isEmpty()) {
                sh[n] += sign * cell.vcpus().size();
                continue;
            }
            take(p, cell.cpus(), n, DEDICATED, use, pl, sign);
            take(p, cell.isolated(), n, ISOLATED, use, pl, sign);
        }
        int pageKiB = p.request().numa().pageSizeKiB();
        int page = pageKiB == 4 ? -1 : topo.pageIndex(pageKiB);
        if (pageKiB != 4 && page < 0) {
            throw new NumaException(NumaException.Kind.INVALID, "host " + topo.name + " has no " + pageKiB + " KiB pages");
        }
        for (Map.Entry<Integer, Long> e : p.memoryByNode().entrySet()) {
            int n = topo.index(e.getKey());
            if (e.getValue() < 0) {
                throw new NumaException(NumaException.Kind.INVALID, "negative memory on node " + e.getKey());
            }
            if (page < 0) {
                mem[n] += sign * e.getValue();
            } else {
                long bytes = pageKiB * 1024L;
                if (e.getValue() % bytes != 0) {
                    throw new NumaException(NumaException.Kind.INVALID, "memory " + e.getValue() + " on node " + e.getKey()
                            + " is not a whole number of " + pageKiB + " KiB pages");
                }
                huge[n][page] += sign * (e.getValue() / bytes);
            }
        }
    }

    private void take(Placement p, List<Integer> cpus, int n, byte kind, byte[] use, int[] pl, int sign) {
        for (int id : cpus) {
            int c = topo.cpuIndexOf(id);
            if (topo.cpuNode[c] != n) {
                throw new NumaException(NumaException.Kind.INVALID, "CPU " + id + " is not on node " + topo.nodeIds[n]);
            }
            if (sign > 0) {
                if (use[c] != FREE) {
                    throw overcommit(p, "CPU " + id + " is already " + (use[c] == RESERVED ? "reserved for the host" : "taken"));
                }
                use[c] = kind;
                pl[n]--;
            } else {
                use[c] = FREE;
                pl[n]++;
            }
        }
    }

    /** Thread policies hold for the claimed cores (the fitter's promise, re-checked). */
    private void checkCells(Placement p, byte[] use) {
        NumaSpec.ThreadPolicy tp = p.request().numa().threads();
        if (!p.dedicated() || tp == NumaSpec.ThreadPolicy.PREFER) {
            return;
        }
        for (Placement.Cell cell : p.cells()) {
            Set<Integer> mine = new HashSet<>(cell.cpus());
            mine.addAll(cell.isolated());
            Set<Integer> cores = new HashSet<>();
            for (int id : cell.cpus()) {
                int core = topo.cpuCore[topo.cpuIndexOf(id)];
                cores.add(core);
                if (tp == NumaSpec.ThreadPolicy.ISOLATE) {
                    for (int sib : topo.coreCpus[core]) {
                        if (!mine.contains(topo.cpuIds[sib])) {
                            throw overcommit(p, "isolate: sibling " + topo.cpuIds[sib] + " of CPU " + id + " is not kept idle for it");
                        }
                    }
                }
            }
            if (tp == NumaSpec.ThreadPolicy.ISOLATE && cores.size() != cell.cpus().size()) {
                throw overcommit(p, "isolate: two vCPUs share a core");
            }
            if (tp == NumaSpec.ThreadPolicy.REQUIRE && (topo.maxThreadsPerCore < 2 || cores.size() > (cell.cpus().size() + 1) / 2)) {
                throw overcommit(p, "require: vCPUs " + cell.cpus() + " are not in sibling pairs");
            }
        }
    }

    private NumaException overcommit(Placement p, String why) {
        return new NumaException(NumaException.Kind.OVERCOMMIT, "VM " + p.vm() + " on " + topo.name + ": " + why);
    }

    private static long[][] deepClone(long[][] a) {
        long[][] b = new long[a.length][];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i].clone();
        }
        return b;
    }

    /** Memory policy over host node ids for a memory mode. */
    static MemoryPolicy policyFor(NumaSpec.MemoryMode mode, List<Integer> cellNodes) {
        List<Integer> sorted = cellNodes.stream().distinct().sorted().toList();
        switch (mode) {
            case STRICT:
                return new MemoryPolicy(MemoryPolicy.Mode.BIND, sorted);
            case INTERLEAVE:
                return new MemoryPolicy(MemoryPolicy.Mode.INTERLEAVE, sorted);
            default:
                return MemoryPolicy.preferred(cellNodes.get(0));
        }
    }

    @Override
    public String toString() {
        return "HostState[" + topo.name + " v" + version + ", " + placements.size() + " VMs, free " + String.format("%.1f", freeCpus)
                + " pCPUs, " + (freeMemory >> 20) + " MiB, pools " + Arrays.toString(pool) + ", shared " + Arrays.toString(shared) + "]";
    }
}
