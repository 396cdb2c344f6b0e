package io.ferryvm.cluster.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cluster.agent.AgentProtocol.HostStatus;
import io.ferryvm.cluster.agent.AgentProtocol.VmRecord;
import io.ferryvm.cluster.agent.Epochs;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The directory's reconciliation rules, as plain logic: reports, lost hosts, stale copies, epochs, seeding. */
class DirectoryTest {
    static final VmSpec A = VmSpec.of("a", 1, 8L << 20, new Workload.Idle());

    static VmRecord rec(VmSpec s, VmStatus st) {
        return new VmRecord(s, new VmInfo(s.id(), s.name(), st, 1, s.memoryBytes(), "idle", 0, 0, Binding.NONE, false, ""));
    }

    static HostStatus host(String name, VmRecord... vms) {
        return new HostStatus(name, "pekko://ferry@127.0.0.1:" + (2550 + name.hashCode() % 100), HostInventory.declared(name, 1, 2, 1, 1L << 30),
                List.of(vms), false, 0);
    }

    @Test
    void aHostsReportIsTheAuthorityOnItsVms() {
        Directory d = new Directory();
        d.report(host("h1", rec(A, VmStatus.RUNNING)));
        assertEquals("h1", d.vm("a").orElseThrow().host());
        d.report(host("h1"));
        assertTrue(d.vm("a").isEmpty(), "gone from the host's report: gone from the directory");
    }

    @Test
    void aDownHostsVmsAreLostUntilSeenAgain() {
        Directory d = new Directory();
        d.report(host("h1", rec(A, VmStatus.RUNNING)));
        assertEquals(1, d.hostDown("h1").size());
        assertEquals(OrchestratorProtocol.Placement.LOST, d.vm("a").orElseThrow().placement());
        d.report(host("h1", rec(A, VmStatus.STOPPED)));
        assertEquals(OrchestratorProtocol.Placement.ACTIVE, d.vm("a").orElseThrow().placement());
    }

    @Test
    void anInactiveCopyOfAVmActiveElsewhereIsStale() {
        Directory d = new Directory();
        d.report(host("h2", rec(A, VmStatus.RUNNING)));
        d.report(host("h1", rec(A, VmStatus.STOPPED)));
        assertEquals("h2", d.vm("a").orElseThrow().host());
        assertEquals(List.of(new Directory.StaleCopy(A.id(), "h1")), d.staleCopies());
        assertTrue(d.staleCopies().isEmpty(), "reported once");
    }

    @Test
    void withTwoInactiveCopiesTheHigherEpochWins() {
        Directory d = new Directory();
        VmSpec newer = Epochs.next(A);
        d.report(host("old", rec(A, VmStatus.STOPPED)));
        d.report(host("new", rec(newer, VmStatus.STOPPED)));
        assertEquals("new", d.vm("a").orElseThrow().host());
        assertEquals(List.of(new Directory.StaleCopy(A.id(), "old")), d.staleCopies());

        Directory e = new Directory();
        e.report(host("new", rec(newer, VmStatus.STOPPED)));
        e.report(host("old", rec(A, VmStatus.STOPPED)));
        assertEquals("new", e.vm("a").orElseThrow().host());
        assertEquals(List.of(new Directory.StaleCopy(A.id(), "old")), e.staleCopies());
    }

    @Test
    void bothEndsOfAMigrationInFlightKeepTheSourceEntry() {
        Directory d = new Directory();
        d.report(host("src", rec(A, VmStatus.MIGRATING)));
        d.report(host("dst", rec(A, VmStatus.MIGRATING)));
        assertEquals("src", d.vm("a").orElseThrow().host());
        assertTrue(d.staleCopies().isEmpty(), "nothing is deleted during a migration");
    }

    @Test
    void seedingFromTheReplicaMarksVmsOfDeadHostsLostAndNeverOverridesReports() {
        Directory d = new Directory();
        VmSpec b = VmSpec.of("b", 1, 8L << 20, new Workload.Idle());
        d.report(host("h1", rec(A, VmStatus.RUNNING)));
        assertTrue(!d.seed(new OrchestratorProtocol.DirectoryRecord(A, "elsewhere", "x"), false), "a report wins");
        assertTrue(d.seed(new OrchestratorProtocol.DirectoryRecord(b, "dead", "pekko://ferry@127.0.0.1:1"), false));
        assertEquals(OrchestratorProtocol.Placement.LOST, d.vm("b").orElseThrow().placement());
        assertEquals(2, d.records(Map.of()).size());
        assertEquals("dead", d.vmsOnIncludingLost("dead").get(0).host());
    }
}
