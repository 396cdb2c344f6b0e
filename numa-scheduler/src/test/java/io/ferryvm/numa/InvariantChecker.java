package io.ferryvm.numa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a host's placements from scratch, without HostState's own bookkeeping: no pCPU given twice or
 * reserved, memory and huge pages per node within capacity, shared vCPUs within the pool times the
 * overcommit ratio, isolate and require thread policies intact, anti-affinity groups alone on the host.
 */
final class InvariantChecker {
    private InvariantChecker() {}

    static void check(HostState h) {
        HostTopology t = h.topology();
        Map<Integer, Object> owner = new HashMap<>();
        Map<Integer, Long> mem = new HashMap<>();
        Map<Integer, Long> huge = new HashMap<>();
        Map<Integer, Integer> shared = new HashMap<>();
        Set<String> groups = new HashSet<>();
        for (Placement p : h.placements()) {
            String g = p.request().group();
            assertTrue(g.isEmpty() || groups.add(g), "two members of group " + g + " on " + t.name());
            int page = p.request().numa().pageSizeKiB();
            for (Map.Entry<Integer, Long> e : p.memoryByNode().entrySet()) {
                (page == 4 ? mem : huge).merge(e.getKey(), page == 4 ? e.getValue() : e.getValue() / (page * 1024L), Long::sum);
            }
            assertEquals(p.request().vcpus(), p.cells().stream().mapToInt(c -> c.vcpus().size()).sum());
            for (Placement.Cell c : p.cells()) {
                if (!p.dedicated()) {
                    shared.merge(c.hostNode(), c.vcpus().size(), Integer::sum);
                    continue;
                }
                for (int cpu : c.cpus()) {
                    assertTrue(t.guestCpus(c.hostNode()).contains(cpu), "CPU " + cpu + " is a guest CPU of node " + c.hostNode());
                    assertFalse(owner.containsKey(cpu), "pCPU " + cpu + " double-booked on " + t.name());
                    owner.put(cpu, p.vm());
                }
                for (int cpu : c.isolated()) {
                    assertFalse(owner.containsKey(cpu), "isolated sibling " + cpu + " double-booked");
                    owner.put(cpu, p.vm());
                }
                checkThreads(t, p.request().numa().threads(), c);
            }
        }
        for (int n : t.nodes()) {
            assertTrue(mem.getOrDefault(n, 0L) <= t.memory(n), "memory of node " + n + " over-committed on " + t.name());
            for (int size : new int[] {2048, 1048576}) {
                if (t.hugePages(n, size) > 0) {
                    assertTrue(huge.getOrDefault(n, 0L) <= t.hugePages(n, size), "huge pages of node " + n);
                }
            }
            long pool = t.guestCpus(n).stream().filter(c -> !owner.containsKey(c)).count();
            assertTrue(shared.getOrDefault(n, 0) <= Math.floor(pool * h.cpuOvercommit() + 1e-9),
                    shared.getOrDefault(n, 0) + " shared vCPUs on " + pool + " pool CPUs of node " + n + " on " + t.name());
        }
    }

    private static void checkThreads(HostTopology t, NumaSpec.ThreadPolicy tp, Placement.Cell c) {
        Map<List<Integer>, Integer> perCore = new HashMap<>();
        for (int cpu : c.cpus()) {
            List<Integer> core = t.cores(c.hostNode()).stream().filter(k -> k.contains(cpu)).findFirst().orElseThrow();
            perCore.merge(core, 1, Integer::sum);
            if (tp == NumaSpec.ThreadPolicy.ISOLATE) {
                for (int sib : core) {
                    assertTrue(sib == cpu || c.isolated().contains(sib), "isolate: sibling " + sib + " of " + cpu + " not kept idle");
                }
            }
        }
        if (tp == NumaSpec.ThreadPolicy.REQUIRE) {
            long singles = perCore.values().stream().filter(v -> v == 1).count();
            assertTrue(singles <= c.cpus().size() % 2, "require: " + singles + " vCPUs without a sibling of their VM in " + perCore);
        }
    }
}
