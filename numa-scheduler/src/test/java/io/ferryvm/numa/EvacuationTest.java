package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static io.ferryvm.numa.TestHosts.dedicated;
import static io.ferryvm.numa.TestHosts.placed;
import static io.ferryvm.numa.TestHosts.shared;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec.ThreadPolicy;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EvacuationTest {
    private static final ClusterScheduler.Config PACK = new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, 1.0, 4, 16);
    private final NumaFitter fitter = new NumaFitter();

    private HostState host(String name, VmRequest... vms) {
        HostState s = HostState.empty(HostTopology.declared(name, 1, 8, 1, 16 * GIB), 1.0);
        for (VmRequest r : vms) {
            s = s.with(placed(fitter.fit(s, r)));
        }
        return s;
    }

    private static Map<String, HostState> cluster(HostState... hs) {
        Map<String, HostState> m = new LinkedHashMap<>();
        for (HostState h : hs) {
            m.put(h.host(), h);
        }
        return m;
    }

    /** Runs the plan's moves, in order, on a scheduler over the same states: each must succeed. */
    private static ClusterScheduler execute(Map<String, HostState> c, List<Move> moves) {
        ClusterScheduler s = ClusterScheduler.of(PACK, c.values());
        for (Move m : moves) {
            assertEquals(m.from(), s.hostOf(m.vm()).orElseThrow());
            Placement p = placed(s.move(m.vm(), m.to()));
            assertEquals(m.to(), p.host());
        }
        for (HostState h : s.snapshot().values()) {
            InvariantChecker.check(h);
        }
        return s;
    }

    @Test
    void everyVmLeavesWithOneMoveEach() {
        Map<String, HostState> c = cluster(
                host("h0", dedicated(2, 4 * GIB, ThreadPolicy.PREFER), shared(2, 2 * GIB), dedicated(1, GIB, ThreadPolicy.PREFER)),
                host("h1", shared(4, 8 * GIB)), host("h2", dedicated(4, 4 * GIB, ThreadPolicy.PREFER)));
        EvacuationPlan plan = new Evacuation(PACK).plan(c, "h0");
        assertTrue(plan.complete(), plan.stuck().toString());
        assertEquals(3, plan.moves().size());
        ClusterScheduler after = execute(c, plan.moves());
        assertTrue(after.state("h0").placements().isEmpty());
    }

    @Test
    void aVmThatFitsNowhereDisplacesOneSmallerVm() {
        VmRequest big = dedicated(4, 10 * GIB, ThreadPolicy.PREFER);
        VmRequest small = shared(1, 4 * GIB);
        Map<String, HostState> c = cluster(host("h0", big), host("h1", shared(1, 6 * GIB), small), host("h2", shared(1, 10 * GIB)));
        EvacuationPlan plan = new Evacuation(PACK).plan(c, "h0");
        assertTrue(plan.complete(), plan.stuck().toString());
        assertEquals(List.of(small.id(), big.id()), plan.moves().stream().map(Move::vm).toList(), "the displaced VM moves first");
        assertEquals("h2", plan.moves().get(0).to());
        assertEquals("h1", plan.moves().get(1).to());
        execute(c, plan.moves());
    }

    @Test
    void aVmThatCannotGoAnywhereIsReportedWithItsReason() {
        VmRequest huge = shared(2, 15 * GIB);
        VmRequest ok = shared(1, GIB);
        Map<String, HostState> c = cluster(host("h0", huge, ok), host("h1", shared(1, 8 * GIB)));
        EvacuationPlan plan = new Evacuation(PACK).plan(c, "h0");
        assertFalse(plan.complete());
        assertEquals(Set.of(huge.id()), plan.stuck().keySet());
        assertEquals(Constraint.MEMORY, plan.stuck().get(huge.id()).constraint());
        Set<UUID> moved = new HashSet<>();
        plan.moves().forEach(m -> moved.add(m.vm()));
        assertEquals(Set.of(ok.id()), moved);
    }
}
