package io.ferryvm.bench.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.machine.MemoryPolicy;
import io.ferryvm.numa.HostState;
import io.ferryvm.numa.HostTopology;
import io.ferryvm.numa.NumaFitter;
import io.ferryvm.numa.Placement;
import io.ferryvm.numa.VmRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Baseline: OpenStack Nova's numa_fit_instance_to_host as the research note describes it, over the same
 * host state. The guest gets numa_nodes = the fewest cells its size allows on this host shape (what a
 * flavor for it would say); host cells are stable-sorted spread-first (free memory, then free pCPUs for
 * dedicated or CPU usage for shared, emptiest first: the 2022 default); the first permutation whose
 * every (guest cell, host cell) pair fits wins, with no scoring; inside a cell, cores with the most free
 * threads are used first (first viable packing). Pair results are cached like Nova's fit caches. No
 * PREFERRED spill: Nova binds guest cells strictly.
 */
final class NovaFitter {
    Placement fit(HostState s, VmRequest r) {
        HostTopology t = s.topology();
        int k = NumaFitter.minNodes(t, r);
        if (k < 0) {
            return null;
        }
        int[][] vcpus = new int[k][];
        long[] mem = new long[k];
        long pages = r.memoryBytes() / 4096;
        int v = 0;
        for (int i = 0; i < k; i++) {
            int nv = r.vcpus() / k + (i < r.vcpus() % k ? 1 : 0);
            vcpus[i] = new int[nv];
            for (int j = 0; j < nv; j++) {
                vcpus[i][j] = v++;
            }
            mem[i] = (pages / k + (i < pages % k ? 1 : 0)) * 4096;
        }
        List<Integer> cells = new ArrayList<>(t.nodes());
        if (cells.size() > k) {
            cells.sort(Comparator.comparingLong((Integer n) -> -s.freeMemory(n)));
            if (r.dedicated()) {
                cells.sort(Comparator.comparingInt((Integer n) -> -s.sharedCpus(n).size()));
            } else {
                cells.sort(Comparator.comparingInt(s::sharedVcpus));
            }
        }
        Map<Long, List<List<Integer>>> cache = new HashMap<>();
        int[] assign = new int[k];
        boolean[] used = new boolean[cells.size()];
        List<List<List<Integer>>> pins = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            pins.add(null);
        }
        if (!permute(s, r, cells, vcpus, mem, 0, assign, used, pins, cache)) {
            return null;
        }
        List<Placement.Cell> out = new ArrayList<>();
        Map<Integer, Long> byNode = new HashMap<>();
        List<Integer> nodes = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            int node = cells.get(assign[i]);
            List<Integer> ids = new ArrayList<>();
            for (int id : vcpus[i]) {
                ids.add(id);
            }
            out.add(new Placement.Cell(i, node, ids, pins.get(i).get(0), pins.get(i).get(1), mem[i]));
            byNode.merge(node, mem[i], Long::sum);
            nodes.add(node);
        }
        List<Integer> sorted = nodes.stream().sorted().toList();
        MemoryPolicy mp = r.numa().memory() == NumaSpec.MemoryMode.INTERLEAVE ? new MemoryPolicy(MemoryPolicy.Mode.INTERLEAVE, sorted)
                : r.numa().memory() == NumaSpec.MemoryMode.PREFERRED ? MemoryPolicy.preferred(nodes.get(0))
                : new MemoryPolicy(MemoryPolicy.Mode.BIND, sorted);
        return new Placement(r, t.name(), out, byNode, mp, 0);
    }

    private boolean permute(HostState s, VmRequest r, List<Integer> cells, int[][] vcpus, long[] mem, int i, int[] assign,
            boolean[] used, List<List<List<Integer>>> pins, Map<Long, List<List<Integer>>> cache) {
        if (i == vcpus.length) {
            return true;
        }
        for (int c = 0; c < cells.size(); c++) {
            if (used[c]) {
                continue;
            }
            long key = ((long) i << 32) | c;
            List<List<Integer>> fit = cache.get(key);
            if (fit == null) {
                fit = cellFit(s, r, cells.get(c), vcpus[i].length, mem[i]);
                cache.put(key, fit);
            }
            if (fit.isEmpty()) {
                continue;
            }
            used[c] = true;
            assign[i] = c;
            pins.set(i, fit);
            if (permute(s, r, cells, vcpus, mem, i + 1, assign, used, pins, cache)) {
                return true;
            }
            used[c] = false;
        }
        return false;
    }

    /** [pCPUs, isolated siblings] if the guest cell fits the host cell, else an empty list. */
    private static List<List<Integer>> cellFit(HostState s, VmRequest r, int node, int v, long mem) {
        if (s.freeMemory(node) < mem) {
            return List.of();
        }
        List<Integer> pool = s.sharedCpus(node);
        if (!r.dedicated()) {
            boolean ok = v <= pool.size() && s.sharedVcpus(node) + v <= Math.floor(pool.size() * s.cpuOvercommit() + 1e-9);
            return ok ? List.of(List.of(), List.of()) : List.of();
        }
        if (pool.size() < v) {
            return List.of();
        }
        List<List<Integer>> free = new ArrayList<>();
        for (List<Integer> core : s.topology().cores(node)) {
            List<Integer> f = new ArrayList<>();
            for (int c : core) {
                if (pool.contains(c)) {
                    f.add(c);
                }
            }
            if (!f.isEmpty()) {
                free.add(f);
            }
        }
        // _pack_instance_onto_cores: sibling sets with the most free threads first, first viable fit
        free.sort(Comparator.comparingInt((List<Integer> f) -> -f.size()));
        List<Integer> picks = new ArrayList<>();
        List<Integer> iso = new ArrayList<>();
        NumaSpec.ThreadPolicy tp = r.numa().threads();
        for (int ci = 0; ci < free.size() && picks.size() < v; ci++) {
            List<Integer> f = free.get(ci);
            int coreSize = s.topology().cores(node).stream().filter(c -> c.contains(f.get(0))).findFirst().orElseThrow().size();
            if (tp == NumaSpec.ThreadPolicy.ISOLATE) {
                if (f.size() == coreSize) {
                    picks.add(f.get(0));
                    iso.addAll(f.subList(1, f.size()));
                }
            } else if (tp == NumaSpec.ThreadPolicy.REQUIRE) {
                if (f.size() >= 2) {
                    for (int c : f) {
                        if (picks.size() < v) {
                            picks.add(c);
                        }
                    }
                }
            } else {
                for (int c : f) {
                    if (picks.size() < v) {
                        picks.add(c);
                    }
                }
            }
        }
        int after = pool.size() - picks.size() - iso.size();
        if (picks.size() < v || s.sharedVcpus(node) > Math.floor(after * s.cpuOvercommit() + 1e-9)) {
            return List.of();
        }
        return List.of(picks, iso);
    }
}
