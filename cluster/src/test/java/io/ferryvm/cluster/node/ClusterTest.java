package io.ferryvm.cluster.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-node cluster in one JVM (separate actor systems over real TCP on 127.0.0.1): placement, the VM
 * lifecycle, live migration with the guest's memory checked against its replay, evacuation, rebalance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterTest {
    static final Duration LONG = Duration.ofMinutes(3);

    @TempDir
    static Path dir;
    EmbeddedCluster cluster;
    ClusterApi api;

    @BeforeAll
    void start() {
        cluster = EmbeddedCluster.start(3, dir, 0, Duration.ofSeconds(7));
        api = cluster.node("host2").api(); // any node answers for the cluster
    }

    @AfterAll
    void stop() {
        cluster.close();
    }

    static <T> T get(CompletionStage<T> s) {
        try {
            return s.toCompletableFuture().get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    OrchestratorProtocol.Result define(VmSpec spec, String host) {
        return get(api.define(spec, host, true));
    }

    OrchestratorProtocol.VmView vm(String name) {
        OrchestratorProtocol.Result r = get(api.vm(name));
        assertTrue(r.ok(), r.message());
        return r.vm();
    }

    @Test
    void placesVmsOnHostsThatFitAndRefusesWhatFitsNowhere() {
        OrchestratorProtocol.Result r = define(VmSpec.of("placed", 2, 64L << 20, new Workload.Idle()), null);
        assertTrue(r.ok(), r.message());
        assertTrue(List.of("host1", "host2", "host3").contains(r.vm().host()));
        assertFalse(r.vm().info().binding().vcpuCpus().isEmpty(), "the host's NUMA placer pinned it");

        NumaSpec dedicated = new NumaSpec(0, List.of(), NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.DEDICATED,
                NumaSpec.ThreadPolicy.PREFER, 4, -1);
        OrchestratorProtocol.Result big = define(VmSpec.of("too-big", 64, 64L << 20, new Workload.Idle()).withNuma(dedicated), null);
        assertFalse(big.ok());
        assertEquals(AgentProtocol.ErrorKind.RESOURCES, big.error());
        assertTrue(big.message().contains("too-big"), big.message());

        OrchestratorProtocol.Result dup = define(VmSpec.of("placed", 1, 8L << 20, new Workload.Idle()), null);
        assertEquals(AgentProtocol.ErrorKind.ALREADY_EXISTS, dup.error());
        OrchestratorProtocol.Result nowhere = define(VmSpec.of("x", 1, 8L << 20, new Workload.Idle()), "no-such-host");
        assertEquals(AgentProtocol.ErrorKind.NOT_FOUND, nowhere.error());
    }

    @Test
    void lifecycleThroughTheOrchestrator() {
        assertTrue(define(VmSpec.of("life", 1, 16L << 20, new Workload.PageWalk(0, 0, 4)), "host3").ok());
        assertEquals(VmStatus.RUNNING, vm("life").info().status());
        assertEquals(VmStatus.PAUSED, get(api.act("life", AgentProtocol.Op.PAUSE)).vm().info().status());
        OrchestratorProtocol.Result again = get(api.act("life", AgentProtocol.Op.PAUSE));
        assertEquals(AgentProtocol.ErrorKind.ILLEGAL, again.error(), "pausing a paused VM is refused with a reason");
        assertTrue(again.message().contains("paused"), again.message());
        assertEquals(VmStatus.RUNNING, get(api.act("life", AgentProtocol.Op.RESUME)).vm().info().status());
        assertEquals(VmStatus.STOPPED, get(api.act("life", AgentProtocol.Op.STOP)).vm().info().status());
        assertTrue(get(api.act("life", AgentProtocol.Op.UNDEFINE)).ok());
        assertEquals(AgentProtocol.ErrorKind.NOT_FOUND, get(api.vm("life")).error());
        assertEquals(AgentProtocol.ErrorKind.NOT_FOUND, get(api.act("nope", AgentProtocol.Op.START)).error());
    }

    @Test
    void liveMigrationMovesTheGuestAndItsMemoryIsExactlyItsReplay() {
        assertTrue(define(VmSpec.of("mover", 2, 128L << 20, new Workload.HotSet(0, 32L << 20, 1.0, 32, 9)), "host1").ok());
        await().atMost(LONG).until(() -> vm("mover").info().steps() > 1000);
        OrchestratorProtocol.MigrationAccepted a = get(api.migrate("mover", "host2", MigrationOptions.DEFAULT));
        assertTrue(a.ok(), a.message());
        assertEquals("host2", a.target());
        await().atMost(LONG).until(() -> summaryOf(a) != null);
        assertTrue(summaryOf(a).success(), summaryOf(a).failure());
        assertTrue(summaryOf(a).downtimeMs() >= 0 && summaryOf(a).iterations() >= 1);
        await().atMost(LONG).until(() -> vm("mover").host().equals("host2") && vm("mover").info().status() == VmStatus.RUNNING);
        AgentProtocol.GuestCheck check = get(api.checkGuest("mover"));
        assertTrue(check.ok(), check.detail());
        assertFalse(cluster.node("host1").host().has(vm("mover").spec().id()), "the source released it");
        assertTrue(cluster.node("host2").host().has(vm("mover").spec().id()));
    }

    @Test
    void impossibleMigrationsAreRefusedAndLeaveTheVmWhereItRuns() {
        assertTrue(define(VmSpec.of("stay", 1, 16L << 20, new Workload.Idle()), "host3").ok());
        assertFalse(get(api.migrate("stay", "host3", MigrationOptions.DEFAULT)).ok(), "to its own host");
        assertFalse(get(api.migrate("stay", "nowhere", MigrationOptions.DEFAULT)).ok(), "to an unknown host");
        assertFalse(get(api.migrate("ghost", "host1", MigrationOptions.DEFAULT)).ok(), "an unknown VM");
        get(api.act("stay", AgentProtocol.Op.STOP));
        OrchestratorProtocol.MigrationAccepted stopped = get(api.migrate("stay", "host1", MigrationOptions.DEFAULT));
        assertFalse(stopped.ok());
        assertTrue(stopped.message().contains("stopped"), stopped.message());
        assertEquals("host3", vm("stay").host());
    }

    @Test
    void evacuationEmptiesAHostAndEveryGuestSurvives() {
        for (int i = 0; i < 3; i++) {
            assertTrue(define(VmSpec.of("evac" + i, 1, 32L << 20, new Workload.PageWalk(0, 0, 8)), "host1").ok());
        }
        OrchestratorProtocol.PlanAccepted plan = get(api.evacuate("host1"));
        assertTrue(plan.ok(), plan.message());
        await().atMost(LONG).until(() -> get(api.vms()).vms().stream().noneMatch(v -> v.host().equals("host1"))
                && get(api.migrations()).migrations().stream().allMatch(m -> m.summary() != null));
        assertTrue(get(api.hosts()).hosts().stream().anyMatch(h -> h.host().equals("host1") && h.draining()));
        for (int i = 0; i < 3; i++) {
            OrchestratorProtocol.VmView v = vm("evac" + i);
            assertNotEquals("host1", v.host());
            AgentProtocol.GuestCheck c = get(api.checkGuest("evac" + i));
            assertTrue(c.ok(), c.detail());
        }
        OrchestratorProtocol.Result r = define(VmSpec.of("not-on-drained", 1, 8L << 20, new Workload.Idle()), "host1");
        assertFalse(r.ok(), "a draining host takes no new VM");
    }

    @Test
    void aHostTakesPartInAtMostFourMigrationsAtOnceTheRestQueue() {
        List<OrchestratorProtocol.MigrationAccepted> accepted = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            assertTrue(define(VmSpec.of("q" + i, 1, 64L << 20, new Workload.Fill(0, 0, i)), "host2").ok());
        }
        for (int i = 0; i < 6; i++) {
            accepted.add(get(api.migrate("q" + i, "host3", MigrationOptions.DEFAULT)));
        }
        assertTrue(accepted.stream().allMatch(OrchestratorProtocol.MigrationAccepted::ok));
        assertTrue(accepted.stream().filter(a -> a.message().equals("queued")).count() >= 2, "the fifth and sixth wait: " + accepted);
        await().atMost(LONG).until(() -> accepted.stream().allMatch(a -> summaryOf(a) != null));
        assertTrue(accepted.stream().allMatch(a -> summaryOf(a).success()));
        for (int i = 0; i < 6; i++) {
            assertEquals("host3", vm("q" + i).host());
        }
    }

    private io.ferryvm.cluster.api.MigrationSummary summaryOf(OrchestratorProtocol.MigrationAccepted a) {
        return get(api.migrations()).migrations().stream().filter(m -> m.migrationId().equals(a.migrationId()))
                .map(OrchestratorProtocol.MigrationView::summary).filter(s -> s != null).findFirst().orElse(null);
    }
}
