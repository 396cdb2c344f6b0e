package io.ferryvm.cluster.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cluster.agent.AgentProtocol.HostStatus;
import io.ferryvm.cluster.agent.AgentProtocol.VmRecord;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.numa.Fit;
import io.ferryvm.numa.Placement;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A guest moves only between hosts of its own hypervisor: a QEMU guest to a QEMU host, a built-in one to a built-in host. */
class PlacementsHypervisorTest {
    private static HostStatus host(String name, String hypervisor, int cores, VmRecord... vms) {
        return new HostStatus(name, "pekko://ferry@127.0.0.1:" + (2550 + Math.abs(name.hashCode() % 100)),
                HostInventory.declared(name, 1, cores, 1, 8L << 30), List.of(vms), false, 0, hypervisor, null);
    }

    @Test
    void aMigrationTargetRunsTheSameHypervisorAsTheSource() {
        VmSpec q = VmSpec.of("q", 2, 1L << 30, new Workload.Idle());
        VmSpec b = VmSpec.of("b", 2, 1L << 30, new Workload.Idle());
        Directory d = new Directory();
        Placements p = new Placements();
        // The built-in hosts are the emptier ones: a scheduler blind to hypervisors would pick them.
        for (HostStatus s : List.of(host("qemu1", "qemu", 4, DirectoryTest.rec(q, VmStatus.RUNNING)), host("qemu2", "qemu", 4),
                host("builtin1", "builtin", 16, DirectoryTest.rec(b, VmStatus.RUNNING)), host("builtin2", "builtin", 16))) {
            d.report(s);
            p.hostReported(s, d);
        }
        Fit qf = p.moveTo(q, "qemu1", null);
        assertTrue(qf instanceof Placement, String.valueOf(qf));
        assertEquals("qemu2", ((Placement) qf).host());
        Fit bf = p.moveTo(b, "builtin1", null);
        assertTrue(bf instanceof Placement, String.valueOf(bf));
        assertEquals("builtin2", ((Placement) bf).host());

        // With the only other QEMU host disabled (draining), there is nowhere for the QEMU guest to go.
        p.migrationFailed(q, "qemu1");
        HostStatus drained = new HostStatus("qemu2", "x", HostInventory.declared("qemu2", 1, 4, 1, 8L << 30), List.of(), true, 0, "qemu", "tcg");
        p.hostReported(drained, d);
        assertFalse(p.moveTo(q, "qemu1", null) instanceof Placement, "no built-in host takes a QEMU guest");
        // ... and the built-in hosts still take placements afterwards.
        p.migrationFailed(b, "builtin1");
        assertTrue(p.moveTo(b, "builtin1", null) instanceof Placement);
        // An HA restart of a guest lost with qemu1 goes to a QEMU host, not to the emptier built-in ones.
        p.hostReported(host("qemu2", "qemu", 4), d);
        p.hostDown("qemu1");
        Fit restart = p.placeNewLike(q, "qemu1");
        assertTrue(restart instanceof Placement, String.valueOf(restart));
        assertEquals("qemu2", ((Placement) restart).host());
        assertEquals("qemu", p.hypervisorOf("qemu1"));
        assertEquals("builtin", p.hypervisorOf("builtin2"));
    }
}
