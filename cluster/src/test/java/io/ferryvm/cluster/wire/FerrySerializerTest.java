package io.ferryvm.cluster.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import io.ferryvm.migration.Endpoint;
import io.ferryvm.migration.MigrationOffer;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationTarget;
import io.ferryvm.migration.MigrationTicket;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every wire message round-trips through Ferry's Kryo serializer; foreign and hostile bytes are refused. */
class FerrySerializerTest {
    static ActorTestKit kit;
    static FerrySerializer ser;

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create(com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local"));
        ser = new FerrySerializer((org.apache.pekko.actor.ExtendedActorSystem) Adapter.toClassic(kit.system()));
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    static Object roundTrip(Object o) throws NotSerializableException {
        return ser.fromBinary(ser.toBinary(o), ser.manifest(o));
    }

    @Test
    void everyMessageKindRoundTrips() throws Exception {
        ActorRef<AgentProtocol.Reply> ref = kit.createTestProbe(AgentProtocol.Reply.class).getRef();
        VmSpec spec = new VmSpec(UUID.randomUUID(), "web", 2, 64L << 20, new Workload.HotSet(0, 4L << 20, 1.1, 8, 3),
                new NumaSpec(1, List.of(new NumaSpec.GuestNode(List.of(0, 1), 64L << 20)), NumaSpec.MemoryMode.STRICT,
                        NumaSpec.CpuPolicy.DEDICATED, NumaSpec.ThreadPolicy.ISOLATE, 4, -1),
                List.of(new DiskSpec("disk0", "/var/lib/ferry/web.img", 1L << 30, "raw", "virtio", false)),
                List.of(new NicSpec("nic0", "default", "52:54:00:12:34:56", "virtio")), VmSpec.HaPolicy.RESTART, "linux",
                Map.of("owner", "ops"));
        VmInfo info = new VmInfo(spec.id(), "web", VmStatus.RUNNING, 2, 64L << 20, "hotset", 123, 20,
                new Binding(List.of(List.of(1), List.of(3)), MemoryPolicy.bind(0)), true, "BB");
        HostInventory inv = HostInventory.declared("h1", 2, 2, 2, 1L << 30);
        MigrationRequest req = MigrationRequest.defaults().withChannels(4).withPreallocate(true);
        List<Object> messages = List.of(
                new AgentProtocol.Define(spec, true, ref),
                AgentProtocol.Reply.ok(info),
                new AgentProtocol.HostStatus("h1", "pekko://ferry@127.0.0.1:2551", inv, List.of(new AgentProtocol.VmRecord(spec, info)),
                        false, 1L << 20),
                new AgentProtocol.PrepareIn(new MigrationOffer(UUID.randomUUID(), spec, req, 2, "h1"),
                        kit.createTestProbe(AgentProtocol.Prepared.class).getRef()),
                new AgentProtocol.Prepared(true, "", new MigrationTicket(UUID.randomUUID(), "0123456789abcdef0123456789abcdef",
                        new Endpoint("tcp", "127.0.0.1:4000"), "h2")),
                new AgentProtocol.FinishReply(true, "", new MigrationTarget.Finished(UUID.randomUUID(), true, Duration.ofMillis(12),
                        Duration.ofMillis(3), Duration.ZERO, 0)),
                new OrchestratorProtocol.VmList(List.of(new OrchestratorProtocol.VmView(spec, info, "h1",
                        OrchestratorProtocol.Placement.ACTIVE))),
                new OrchestratorProtocol.Migrate("web", "h2", MigrationOptions.DEFAULT,
                        kit.createTestProbe(OrchestratorProtocol.MigrationAccepted.class).getRef()),
                new ClusterEvent.Migration(new MigrationProgress(UUID.randomUUID(), spec.id(), "h1", "h2", "PRECOPY", 3, 10, 20, 1.5,
                        2.5, 40, 30), null),
                new ClusterEvent.Migration(null, new MigrationSummary(UUID.randomUUID(), spec.id(), "web", "h1", "h2", true, "", 1, 2, 3,
                        4, 5, 6, 7, 8, 9, Map.of("lz4", 10L), 0.5, 1.0, 2.0, 30, 0)),
                new AgentProtocol.GuestCheck(spec.id(), true, "ok", 42, new long[] {1, 2}),
                new AgentProtocol.HostStatus("q1", "pekko://ferry@127.0.0.1:2552", inv, List.of(), true, 0, "qemu", "tcg"),
                new OrchestratorProtocol.Migrate("web", "h2", MigrationOptions.DEFAULT.withHypervisorMode("direct").withPreallocate(true),
                        kit.createTestProbe(OrchestratorProtocol.MigrationAccepted.class).getRef()),
                new AgentProtocol.DriverPrepareIn(UUID.randomUUID(), spec, new io.ferryvm.migration.HypervisorMigration.Options(
                        io.ferryvm.migration.HypervisorMigration.Options.Mode.TUNNELLED, true, Duration.ofMillis(300), 125_000_000L, 0,
                        true, false, 0, Duration.ofMinutes(5)), kit.createTestProbe(AgentProtocol.DriverAnswer.class).getRef()),
                new AgentProtocol.DriverFinishIn(UUID.randomUUID(), true, kit.createTestProbe(AgentProtocol.DriverAnswer.class).getRef()),
                new AgentProtocol.DriverAnswer(true, "", null, new Endpoint("tcp", "127.0.0.1:4001"), "00ff", -1, false));
        for (Object m : messages) {
            Object back = roundTrip(m);
            if (m instanceof AgentProtocol.GuestCheck g) {
                AgentProtocol.GuestCheck b = (AgentProtocol.GuestCheck) back;
                assertEquals(g.detail(), b.detail());
                assertTrue(java.util.Arrays.equals(g.steps(), b.steps()));
            } else {
                assertEquals(m, back, m.getClass().getSimpleName());
            }
        }
    }

    @Test
    void unknownVersionsNonMessagesAndGarbageAreRefused() throws Exception {
        byte[] ok = ser.toBinary(new AgentProtocol.CancelOut(UUID.randomUUID(), "x"));
        assertThrows(NotSerializableException.class, () -> ser.fromBinary(ok, "v2"), "a newer wire version");
        assertThrows(NotSerializableException.class, () -> ser.fromBinary(ok, "java"), "not a version");
        assertThrows(IllegalArgumentException.class, () -> ser.toBinary("a plain string"), "only wire messages");
        byte[] unknownClass = ok.clone();
        unknownClass[0] = (byte) 0x7f; // a registration id no class has
        assertThrows(NotSerializableException.class, () -> ser.fromBinary(unknownClass, "v1"));
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 2_000; i++) {
            byte[] junk = new byte[r.nextInt(1, 64)];
            for (int j = 0; j < junk.length; j++) {
                junk[j] = (byte) r.nextInt(256);
            }
            try {
                Object o = ser.fromBinary(junk, "v1");
                assertTrue(o instanceof WireMessage);
            } catch (NotSerializableException expected) {
                // refused with a reason: that is the point
            }
        }
    }
}
