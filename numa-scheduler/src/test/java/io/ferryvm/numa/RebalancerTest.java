package io.ferryvm.numa;

import static io.ferryvm.numa.TestHosts.GIB;
import static io.ferryvm.numa.TestHosts.placed;
import static io.ferryvm.numa.TestHosts.shared;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NumaSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RebalancerTest {
    private static final ClusterScheduler.Config PACK = new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, 1.0, 4, 16);
    private final NumaFitter fitter = new NumaFitter();

    private static VmRequest preferred(int vcpus, long mem) {
        return new VmRequest(UUID.randomUUID(), vcpus, mem,
                TestHosts.spec(0, NumaSpec.MemoryMode.PREFERRED, NumaSpec.CpuPolicy.SHARED, NumaSpec.ThreadPolicy.PREFER), "");
    }

    @Test
    void spilledMemoryIsBroughtHomeOnAnotherHost() {
        HostState a = HostState.empty(HostTopology.declared("a", 2, 4, 1, 4 * GIB), 1.0);
        a = a.with(placed(fitter.fit(a, shared(1, 3 * GIB))));
        a = a.with(placed(fitter.fit(a, shared(1, 3 * GIB))));
        Placement spilled = placed(fitter.fit(a, preferred(1, 2 * GIB)));
        assertTrue(spilled.remoteMemory() > 0);
        a = a.with(spilled);
        HostState b = HostState.empty(HostTopology.declared("b", 2, 4, 1, 4 * GIB), 1.0);
        Map<String, HostState> c = new LinkedHashMap<>();
        c.put("a", a);
        c.put("b", b);
        RebalancePlan plan = new Rebalancer(PACK, GIB).plan(c, 5);
        assertEquals(1, plan.moves().size(), plan.toString());
        assertEquals(spilled.vm(), plan.moves().get(0).vm());
        assertEquals("b", plan.moves().get(0).to());
        assertEquals(GIB, plan.before().remoteMemory());
        assertEquals(0, plan.after().remoteMemory());
        assertEquals(0, new Rebalancer(PACK, GIB).plan(c, 0).moves().size(), "the bound holds");
    }

    @Test
    void aNeedlesslySplitVmIsReunitedOnOneNode() {
        HostState a = HostState.empty(HostTopology.declared("a", 2, 4, 1, 8 * GIB), 1.0);
        Placement x = placed(fitter.fit(a, TestHosts.dedicated(3, GIB, NumaSpec.ThreadPolicy.PREFER)));
        a = a.with(x);
        Placement y = placed(fitter.fit(a, TestHosts.dedicated(3, GIB, NumaSpec.ThreadPolicy.PREFER)));
        a = a.with(y);
        Placement split = placed(fitter.fit(a, TestHosts.dedicated(2, 2 * GIB, NumaSpec.ThreadPolicy.PREFER)));
        assertEquals(2, split.cells().size(), "only one pCPU left per node: " + split);
        a = a.with(split);
        Map<String, HostState> c = new LinkedHashMap<>();
        c.put("a", a);
        c.put("b", HostState.empty(HostTopology.declared("b", 2, 4, 1, 8 * GIB), 1.0));
        RebalancePlan plan = new Rebalancer(PACK, GIB).plan(c, 3);
        assertEquals(1, plan.before().splitVms());
        assertEquals(0, plan.after().splitVms());
        assertEquals(split.vm(), plan.moves().get(0).vm());
        assertEquals(1, plan.moves().get(0).expected().cells().size());
    }
}
