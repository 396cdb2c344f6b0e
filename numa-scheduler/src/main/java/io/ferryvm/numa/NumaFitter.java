package io.ferryvm.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.machine.MemoryPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fits a VM request to one host's free resources and returns the best {@link Placement}, or a
 * {@link Rejection} naming the first constraint that failed on the node that came closest.
 *
 * <p>Implementation notes. Nova's {@code numa_fit_instance_to_host} walks host-cell permutations and
 * returns the first that fits: no scoring, n!/(n-k)! checks. Here each (guest node, host node) pair is
 * checked once (identical guest nodes share the check), then a branch-and-bound search over injective
 * assignments minimises, lexicographically, the number of host nodes (auto mode tries 1, 2, ... nodes
 * and stops at the first that fits), the sum of pairwise SLIT distances, and a packing cost; identical
 * guest nodes are assigned in increasing host-node order, so an even split of k cells on n nodes costs
 * C(n,k) leaves, not n!/(n-k)! (70 instead of 1680 for 4 of 8).
 *
 * <p>Packing cost of a node after the cell lands: {@code 0.5*(fc+fm) + 4*|fc-fm|}, fc and fm being the
 * node's free CPU and memory fractions; the first term prefers fuller nodes (keeps empty nodes for big
 * VMs), the second penalises leaving one resource free while the other is exhausted (stranding).
 * Dedicated pCPUs inside a node fill partly used cores first, so whole cores stay free for isolate and
 * require requests (Nova does the opposite: most free siblings first, first viable fit).
 *
 * <p>Memory: STRICT binds to the cells' nodes, INTERLEAVE interleaves over them; both account each
 * cell's memory on its node. PREFERRED first tries the same; if only memory fails it may spill the
 * remainder to the nearest nodes with free memory (accounted there, reported as remote memory).
 */
public final class NumaFitter {
    private static final double NODE_WEIGHT = 1000;
    /** Weight of |free CPU share - free memory share| against fullness: 4 measured best in the fill benchmark (1, 4 tried). */
    static final double IMBALANCE = 4;
    static final long DEFAULT_STRAND_MEMORY = 2L << 30;
    /** Cost of newly stranding pCPUs or memory on a node (see {@link #strandCost}); the pair cost is divided by 2k+1 <= 17 in the placement cost. */
    static final double STRAND_STEP = 60;
    static final double STRAND_WEIGHT = 60;

    /** Below this much free small-page memory a node's free pCPUs count as stranded (the smallest VM expected). */
    final long strandMemory;

    /** A fitter that treats 2 GiB as the smallest VM (the benchmark's mix and common cloud flavours). */
    public NumaFitter() {
        this(DEFAULT_STRAND_MEMORY);
    }

    /** A fitter that avoids leaving nodes with free pCPUs but less than {@code strandMemory} free memory. */
    public NumaFitter(long strandMemory) {
        if (strandMemory < 0) {
            throw new NumaException(NumaException.Kind.INVALID, "strand memory " + strandMemory + " < 0");
        }
        this.strandMemory = strandMemory;
    }

    /**
     * Extra packing cost of stranding on one node: what the placement newly strands there in
     * {@link Fragmentation}'s terms (free pCPUs once free memory is below {@code strandMemory}, free memory
     * once less than one pCPU is free, if at least {@code strandMemory}: a smaller remainder is the odd
     * end a node's size leaves), as a fraction of the node, plus a step for creating any. Weighted
     * far above the fullness and balance terms (a host is preferred over another that would strand) and
     * far below an extra NUMA node (stranding never splits a VM).
     */
    double strandCost(double cpusBefore, long memBefore, double cpusAfter, long memAfter, int nodeCpus, long nodeMemory) {
        double cpus = stranded(cpusAfter, memAfter) - stranded(cpusBefore, memBefore);
        double mem = (cpusAfter < 1 - 1e-9 ? memAfter : 0) - (cpusBefore < 1 - 1e-9 ? memBefore : 0);
        double cost = 0;
        if (cpus > 1e-9) {
            cost += STRAND_STEP + STRAND_WEIGHT * cpus / Math.max(1, nodeCpus);
        }
        if (mem > 0 && memAfter >= strandMemory) {
            cost += STRAND_STEP + STRAND_WEIGHT * mem / Math.max(1, nodeMemory);
        }
        return cost;
    }

    private double stranded(double cpus, long mem) {
        return mem < strandMemory ? Math.max(0, cpus) : 0;
    }

    /** The best placement with the fewest host nodes this host allows. */
    public Fit fit(HostState state, VmRequest request) {
        return fit(state, request, Integer.MAX_VALUE);
    }

    /**
     * Like {@link #fit(HostState, VmRequest)}, but a scheduler-chosen split (guest nodes 0) may use at most
     * {@code extraNodes} more host nodes than the VM's size needs on an empty node of this host, and with
     * 0 PREFERRED memory may not spill to other nodes (a cluster first looks for a fully local host).
     */
    public Fit fit(HostState state, VmRequest request, int extraNodes) {
        return new Search(state, request).run(extraNodes);
    }

    /** The fewest host nodes the VM could occupy on an empty node of this host (auto split), or -1 if none. */
    public static int minNodes(HostTopology t, VmRequest r) {
        boolean dedicated = r.dedicated();
        int pageKiB = r.numa().pageSizeKiB();
        int page = pageKiB == 4 ? -1 : t.pageIndex(pageKiB);
        if (r.numa().guestNodes() > 0) {
            return r.numa().guestNodes() <= t.nodeCount() ? r.numa().guestNodes() : -1;
        }
        int maxCpus = t.maxNodeGuestCpus;
        long maxMem = page < 0 ? t.maxNodeMemory : 0;
        for (int n = 0; page >= 0 && n < t.nodeCount(); n++) {
            maxMem = Math.max(maxMem, t.hugePages[n][page] * pageKiB * 1024L);
        }
        int cpuFactor = dedicated && r.numa().threads() == NumaSpec.ThreadPolicy.ISOLATE ? t.maxThreadsPerCore : 1;
        for (int k = 1; k <= Math.min(t.nodeCount(), r.vcpus()); k++) {
            int cellCpus = (r.vcpus() + k - 1) / k;
            long pages = r.memoryBytes() / (pageKiB * 1024L);
            long cellMem = (pages + k - 1) / k * pageKiB * 1024L;
            if (cellCpus * cpuFactor <= maxCpus && cellMem <= maxMem) {
                return k;
            }
        }
        return -1;
    }

    /** A guest node to place: its vCPU indices and memory. */
    private record CellReq(int[] vcpus, long memory) {
        boolean sameShape(CellReq o) {
            return vcpus.length == o.vcpus.length && memory == o.memory;
        }
    }

    /** The outcome of one (guest node, host node) check: a pinning and its cost, or how far it got. */
    private static final class PairFit {
        int stage;              // 0 fits; otherwise the failing stage (higher got further)
        Constraint constraint;
        String detail;
        int[] cpus = new int[0];     // dense CPU indices, one per vCPU (dedicated)
        int[] isolated = new int[0];
        double cost;

        static PairFit fail(int stage, Constraint c, String detail) {
            PairFit f = new PairFit();
            f.stage = stage;
            f.constraint = c;
            f.detail = detail;
            return f;
        }
    }

    private final class Search {
        final HostState s;
        final HostTopology t;
        final VmRequest r;
        final NumaSpec spec;
        final int pageKiB;
        final long pageBytes;
        final int page;
        int dev = -1;
        PairFit closest;
        Rejection structural;

        // branch and bound over one split
        CellReq[] cells;
        PairFit[][] pairs;
        int[] shapeOf;
        int[] assign;
        boolean[] used;
        int[] best;
        double bestDist;
        double bestCost;

        Search(HostState s, VmRequest r) {
            this.s = s;
            this.t = s.topo;
            this.r = r;
            this.spec = r.numa();
            this.pageKiB = spec.pageSizeKiB();
            this.pageBytes = pageKiB * 1024L;
            this.page = pageKiB == 4 ? -1 : t.pageIndex(pageKiB);
        }

        Fit run(int extraNodes) {
            int n = t.nodeCount();
            if (s.hasGroup(r.group())) {
                return new Rejection(Constraint.ANTI_AFFINITY, "host " + t.name + " already holds a member of group '" + r.group() + "'");
            }
            if (spec.guestNodes() > n) {
                return new Rejection(Constraint.HOST_NODES, "host " + t.name + " has " + n + " NUMA nodes, the VM asks for " + spec.guestNodes());
            }
            if (spec.deviceNode() >= 0) {
                dev = t.indexOrMinus(spec.deviceNode());
                if (dev < 0) {
                    return new Rejection(Constraint.DEVICE_NODE, "host " + t.name + " has no NUMA node " + spec.deviceNode() + " for the VM's device");
                }
            }
            if (pageKiB != 4 && page < 0) {
                return new Rejection(Constraint.HUGE_PAGES, "host " + t.name + " has no " + pageKiB + " KiB huge pages");
            }
            if (r.memoryBytes() % pageBytes != 0) {
                return new Rejection(Constraint.REQUEST, "memory " + r.memoryBytes() + " bytes is not a whole number of " + pageKiB + " KiB pages");
            }
            List<CellReq[]> splits = new ArrayList<>();
            if (!spec.nodes().isEmpty()) {
                CellReq[] cs = new CellReq[spec.nodes().size()];
                for (int i = 0; i < cs.length; i++) {
                    NumaSpec.GuestNode g = spec.nodes().get(i);
                    if (g.memoryBytes() % pageBytes != 0) {
                        return new Rejection(Constraint.REQUEST, "guest node " + i + " memory " + g.memoryBytes() + " bytes is not a whole number of "
                                + pageKiB + " KiB pages");
                    }
                    cs[i] = new CellReq(g.vcpus().stream().mapToInt(Integer::intValue).toArray(), g.memoryBytes());
                }
                splits.add(cs);
            } else if (spec.guestNodes() > 0) {
                splits.add(evenSplit(spec.guestNodes()));
            } else {
                int min = Math.max(1, minNodes(t, r));
                int max = (int) Math.min(Math.min(n, r.vcpus()), (long) min + extraNodes);
                for (int k = min; k <= max; k++) {
                    splits.add(evenSplit(k));
                }
            }
            boolean canSpill = spec.memory() == NumaSpec.MemoryMode.PREFERRED && page < 0 && extraNodes > 0;
            for (CellReq[] split : splits) {
                Fit f = place(split, false);
                if (f != null) {
                    return f;
                }
            }
            if (canSpill && closest != null && closest.constraint == Constraint.MEMORY && s.freeMemory() >= r.memoryBytes()) {
                for (CellReq[] split : splits) {
                    Fit f = place(split, true);
                    if (f != null) {
                        return f;
                    }
                }
            }
            if (closest != null && closest.stage > 0) {
                return new Rejection(closest.constraint, closest.detail);
            }
            return structural != null ? structural
                    : new Rejection(Constraint.HOST_NODES, "host " + t.name + ": no assignment of guest nodes to distinct host nodes fits");
        }

        CellReq[] evenSplit(int k) {
            CellReq[] cs = new CellReq[k];
            long pages = r.memoryBytes() / pageBytes;
            int v = 0;
            for (int i = 0; i < k; i++) {
                int nv = r.vcpus() / k + (i < r.vcpus() % k ? 1 : 0);
                int[] ids = new int[nv];
                for (int j = 0; j < nv; j++) {
                    ids[j] = v++;
                }
                long np = pages / k + (i < pages % k ? 1 : 0);
                cs[i] = new CellReq(ids, np * pageBytes);
            }
            return cs;
        }

        /** Best placement for one split, or null (the reason is kept in closest / structural). */
        Fit place(CellReq[] split, boolean spill) {
            int k = split.length;
            int n = t.nodeCount();
            if (k > n) {
                structural = new Rejection(Constraint.HOST_NODES, "host " + t.name + " has " + n + " NUMA nodes, the VM needs " + k);
                return null;
            }
            cells = split;
            shapeOf = new int[k];
            pairs = new PairFit[k][];
            for (int i = 0; i < k; i++) {
                shapeOf[i] = i;
                for (int j = 0; j < i; j++) {
                    if (split[j].sameShape(split[i])) {
                        shapeOf[i] = shapeOf[j];
                        break;
                    }
                }
                if (shapeOf[i] == i) {
                    pairs[i] = new PairFit[n];
                    for (int node = 0; node < n; node++) {
                        PairFit f = evalPair(i, split[i], node, spill);
                        pairs[i][node] = f;
                        if (f.stage > 0 && (closest == null || f.stage > closest.stage)) {
                            closest = f;
                        }
                    }
                } else {
                    pairs[i] = pairs[shapeOf[i]];
                }
            }
            assign = new int[k];
            used = new boolean[n];
            best = null;
            bestDist = Double.MAX_VALUE;
            bestCost = Double.MAX_VALUE;
            dfs(0, 0, 0);
            if (best == null) {
                boolean allPairsFit = true;
                for (int i = 0; i < k && allPairsFit; i++) {
                    boolean any = false;
                    for (PairFit f : pairs[i]) {
                        any |= f.stage == 0;
                    }
                    allPairsFit = any;
                }
                if (allPairsFit && structural == null) {
                    structural = dev >= 0
                            ? new Rejection(Constraint.DEVICE_NODE, "host " + t.name + ": no fit puts a guest node on device node " + t.nodeIds[dev])
                            : new Rejection(Constraint.HOST_NODES, "host " + t.name + ": " + k + " guest nodes do not fit on distinct host nodes");
                }
                return null;
            }
            return build(split, spill);
        }

        void dfs(int i, double dist, double cost) {
            if (dist > bestDist || (dist == bestDist && cost >= bestCost)) {
                return;
            }
            if (i == cells.length) {
                if (dev >= 0 && !used[dev]) {
                    return;
                }
                best = assign.clone();
                bestDist = dist;
                bestCost = cost;
                return;
            }
            int from = 0;
            for (int j = i - 1; j >= 0; j--) {
                if (shapeOf[j] == shapeOf[i]) {
                    from = assign[j] + 1; // identical guest nodes are interchangeable: increasing host nodes
                    break;
                }
            }
            for (int node = from; node < used.length; node++) {
                PairFit f = pairs[i][node];
                if (used[node] || f.stage != 0) {
                    continue;
                }
                double d = 0;
                for (int j = 0; j < i; j++) {
                    d += t.distance[assign[j]][node];
                }
                used[node] = true;
                assign[i] = node;
                dfs(i + 1, dist + d, cost + f.cost);
                used[node] = false;
            }
        }

        String where(int n) {
            return "host " + t.name + " node " + t.nodeIds[n] + ": ";
        }

        static String what(int cellIndex, CellReq c) {
            return "guest node " + cellIndex + " (" + c.vcpus.length + " vCPUs, " + mib(c.memory) + " MiB)";
        }

        // messages are built only on failure: this runs for every (guest node, host node) pair of every candidate host
        PairFit evalPair(int cellIndex, CellReq c, int n, boolean spill) {
            long freeMem;
            long capMem;
            if (page >= 0) {
                long need = c.memory / pageBytes;
                long free = t.hugePages[n][page] - s.hugeUsed[n][page];
                if (free < need) {
                    return PairFit.fail(1, Constraint.HUGE_PAGES, where(n) + free + " free " + pageKiB + " KiB pages, " + what(cellIndex, c)
                            + " needs " + need);
                }
                freeMem = free * pageBytes;
                capMem = t.hugePages[n][page] * pageBytes;
            } else {
                freeMem = t.nodeMemory[n] - s.memUsed[n];
                capMem = t.nodeMemory[n];
                if (!spill && freeMem < c.memory) {
                    return PairFit.fail(1, Constraint.MEMORY, where(n) + mib(freeMem) + " MiB free memory, " + what(cellIndex, c) + " needs "
                            + mib(c.memory) + " MiB");
                }
            }
            int v = c.vcpus.length;
            int pool = s.pool[n];
            PairFit fit;
            int taken;
            if (r.dedicated()) {
                fit = pin(n, v, cellIndex, c);
                if (fit.stage != 0) {
                    return fit;
                }
                taken = fit.cpus.length + fit.isolated.length;
                int after = pool - taken;
                if (s.shared[n] > s.sharedCapacity(n, after)) {
                    return PairFit.fail(2, Constraint.DEDICATED_CPUS, where(n) + "taking " + taken + " pCPUs would leave " + after + " for "
                            + s.shared[n] + " shared vCPUs at overcommit " + s.overcommit);
                }
            } else {
                if (v > pool) {
                    return PairFit.fail(2, Constraint.SHARED_CPUS, where(n) + pool + " shared pCPUs, " + what(cellIndex, c) + " has more vCPUs than that");
                }
                if (s.shared[n] + v > s.sharedCapacity(n, pool)) {
                    return PairFit.fail(2, Constraint.SHARED_CPUS, where(n) + s.shared[n] + " shared vCPUs on " + pool + " pCPUs at overcommit "
                            + s.overcommit + ", no room for " + v + " more");
                }
                fit = new PairFit();
                taken = 0;
            }
            int guestCpus = Math.max(1, t.nodeGuestCpus[n]);
            double cpusAfter = pool - taken - (s.shared[n] + (r.dedicated() ? 0 : v)) / s.overcommit;
            double fc = Math.max(0, cpusAfter) / guestCpus;
            double fm = capMem == 0 ? 0 : (double) Math.max(0, freeMem - c.memory) / capMem;
            double overflow = capMem == 0 ? 1 : (double) Math.max(0, c.memory - freeMem) / capMem;
            long smallFree = t.nodeMemory[n] - s.memUsed[n];
            long smallAfter = page >= 0 ? smallFree : Math.max(0, smallFree - c.memory);
            fit.cost = 0.5 * (fc + fm) + IMBALANCE * Math.abs(fc - fm) + 2 * overflow
                    + strandCost(s.freeCpus(n, 0), smallFree, cpusAfter, smallAfter, guestCpus, t.nodeMemory[n]);
            return fit;
        }

        /** Dedicated pCPUs for v vCPUs on node n under the thread policy (dense CPU indices). */
        PairFit pin(int n, int v, int cellIndex, CellReq cell) {
            int[] cores = t.nodeCores[n];
            int[] freeIn = new int[cores.length];
            int maxThreads = 1;
            for (int i = 0; i < cores.length; i++) {
                for (int c : t.coreCpus[cores[i]]) {
                    if (s.cpuUse[c] == HostState.FREE) {
                        freeIn[i]++;
                    }
                }
                maxThreads = Math.max(maxThreads, t.coreCpus[cores[i]].length);
            }
            int pool = s.pool[n];
            if (pool < v) {
                return PairFit.fail(2, Constraint.DEDICATED_CPUS, where(n) + pool + " free pCPUs, " + what(cellIndex, cell) + " needs " + v + " dedicated");
            }
            int[] picks = new int[v];
            int got = 0;
            List<Integer> iso = new ArrayList<>();
            switch (spec.threads()) {
                case ISOLATE:
                    for (int i = 0; i < cores.length && got < v; i++) {
                        int[] cpus = t.coreCpus[cores[i]];
                        if (freeIn[i] == cpus.length) {
                            picks[got++] = cpus[0];
                            for (int j = 1; j < cpus.length; j++) {
                                iso.add(cpus[j]);
                            }
                        }
                    }
                    if (got < v) {
                        return PairFit.fail(3, Constraint.THREAD_POLICY, where(n) + "isolate needs " + v + " wholly free cores, " + got + " are");
                    }
                    break;
                case REQUIRE:
                    if (maxThreads < 2) {
                        return PairFit.fail(3, Constraint.THREAD_POLICY, where(n) + "require needs SMT siblings, the node has one thread per core");
                    }
                    for (int want = maxThreads; want >= 2 && got < v; want--) {
                        for (int i = 0; i < cores.length && got < v; i++) {
                            if (freeIn[i] == want) {
                                got = takeFree(cores[i], picks, got, v);
                            }
                        }
                    }
                    if (got < v) {
                        return PairFit.fail(3, Constraint.THREAD_POLICY, where(n) + "require: only " + got + " of " + v + " vCPUs fit on free sibling pairs");
                    }
                    break;
                default:
                    // holes first: partly used cores, then whole free cores
                    for (int want = 1; want <= maxThreads && got < v; want++) {
                        for (int i = 0; i < cores.length && got < v; i++) {
                            if (freeIn[i] == want) {
                                got = takeFree(cores[i], picks, got, v);
                            }
                        }
                    }
                    break;
            }
            PairFit f = new PairFit();
            f.cpus = picks;
            f.isolated = iso.stream().mapToInt(Integer::intValue).toArray();
            return f;
        }

        int takeFree(int core, int[] picks, int got, int v) {
            for (int c : t.coreCpus[core]) {
                if (got < v && s.cpuUse[c] == HostState.FREE) {
                    picks[got++] = c;
                }
            }
            return got;
        }

        Fit build(CellReq[] split, boolean spill) {
            List<Placement.Cell> out = new ArrayList<>();
            Map<Integer, Long> mem = new HashMap<>();
            long[] free = new long[t.nodeCount()];
            for (int n = 0; n < free.length; n++) {
                free[n] = page >= 0 ? (t.hugePages[n][page] - s.hugeUsed[n][page]) * pageBytes : t.nodeMemory[n] - s.memUsed[n];
            }
            long overflow = 0;
            List<Integer> cellNodes = new ArrayList<>();
            for (int i = 0; i < split.length; i++) {
                int n = best[i];
                PairFit f = pairs[i][n];
                List<Integer> vcpus = Arrays.stream(split[i].vcpus).boxed().toList();
                List<Integer> cpus = Arrays.stream(f.cpus).map(c -> t.cpuIds[c]).boxed().toList();
                List<Integer> iso = Arrays.stream(f.isolated).map(c -> t.cpuIds[c]).boxed().toList();
                out.add(new Placement.Cell(i, t.nodeIds[n], vcpus, cpus, iso, split[i].memory));
                long local = Math.min(split[i].memory, free[n]);
                free[n] -= local;
                overflow += split[i].memory - local;
                if (local > 0) {
                    mem.merge(t.nodeIds[n], local, Long::sum);
                }
                cellNodes.add(t.nodeIds[n]);
            }
            if (overflow > 0) {
                // PREFERRED spill: nearest nodes (to guest node 0's) first
                Integer[] order = new Integer[free.length];
                for (int n = 0; n < order.length; n++) {
                    order[n] = n;
                }
                int home = best[0];
                Arrays.sort(order, (a, b) -> t.distance[home][a] != t.distance[home][b]
                        ? Integer.compare(t.distance[home][a], t.distance[home][b]) : Long.compare(free[b], free[a]));
                for (int n : order) {
                    long take = Math.min(overflow, free[n] & ~(pageBytes - 1));
                    if (take > 0) {
                        mem.merge(t.nodeIds[n], take, Long::sum);
                        free[n] -= take;
                        overflow -= take;
                    }
                }
                if (overflow > 0) {
                    closest = PairFit.fail(1, Constraint.MEMORY, "host " + t.name + ": " + mib(r.memoryBytes()) + " MiB do not fit even spread over every node");
                    return null;
                }
            }
            MemoryPolicy policy = HostState.policyFor(spec.memory(), cellNodes);
            // a spill counts like an extra node: remote memory is the locality loss PREFERRED accepts last
            double cost = NODE_WEIGHT * (split.length - 1 + (spill ? 0.5 : 0)) + bestDist + bestCost / (2.0 * split.length + 1);
            return new Placement(r, t.name, out, mem, policy, cost);
        }

        static long mib(long bytes) {
            return bytes >> 20;
        }
    }
}
