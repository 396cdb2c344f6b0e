package io.ferryvm.cluster.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.PageWalkCheck;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.migration.Endpoint;
import io.ferryvm.migration.FrameChannel;
import io.ferryvm.migration.MigrationListener;
import io.ferryvm.migration.MigrationReport;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationService;
import io.ferryvm.migration.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Migration channels over Pekko Streams TCP: bytes arrive intact and in order, and a whole migration runs over them. */
class PekkoStreamsTransportTest {
    static ActorTestKit kit;
    static PekkoStreamsTransport transport;

    @BeforeAll
    static void start() {
        kit = ActorTestKit.create(com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local"));
        transport = new PekkoStreamsTransport(kit.system(), "127.0.0.1");
    }

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    @Test
    void bytesArriveInOrderBothWaysAndCloseEndsTheStream() throws Exception {
        try (Transport.Listener l = transport.listen("t")) {
            CompletableFuture<FrameChannel> in = CompletableFuture.supplyAsync(() -> {
                try {
                    return l.accept();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            FrameChannel out = transport.connect(l.endpoint());
            FrameChannel server = in.get();
            byte[] data = new byte[8 << 20];
            new SplittableRandom(1).nextBytes(data);
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> readAll(server, data.length));
            for (int off = 0; off < data.length; off += 100_000) {
                int n = Math.min(100_000, data.length - off);
                out.write(new ByteBuffer[] {ByteBuffer.wrap(data, off, n), ByteBuffer.allocateDirect(0)});
            }
            assertArrayEquals(data, got.get());
            server.write(new ByteBuffer[] {ByteBuffer.wrap(new byte[] {7, 8, 9})});
            assertArrayEquals(new byte[] {7, 8, 9}, readAll(out, 3));
            out.close();
            assertEquals(-1, server.read(ByteBuffer.allocate(10)), "the peer's close ends the stream");
            server.close();
        }
        assertThrows(IOException.class, () -> transport.connect(new Endpoint("tcp", "127.0.0.1:1")), "not our endpoint kind");
    }

    static byte[] readAll(FrameChannel c, int n) {
        ByteBuffer b = ByteBuffer.allocate(n);
        try {
            while (b.hasRemaining()) {
                if (c.read(b) < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.array();
    }

    @Test
    void aLiveMigrationRunsOverPekkoStreams(@TempDir Path dir) {
        Host source = Host.open(new HostConfig("src", dir.resolve("src"), HostInventory.declared("src", 1, 4, 1, 8L << 30), null, null));
        Host target = Host.open(new HostConfig("dst", dir.resolve("dst"), HostInventory.declared("dst", 1, 4, 1, 8L << 30), null, null));
        try {
            Workload.PageWalk walk = new Workload.PageWalk(0, 0, 64);
            VmSpec spec = VmSpec.of("streamed", 2, 64L << 20, walk);
            source.define(spec);
            source.start(spec.id());
            MigrationService from = new MigrationService(source, transport, io.ferryvm.migration.Failpoints.none(), MigrationListener.NONE);
            MigrationService to = new MigrationService(target, transport, io.ferryvm.migration.Failpoints.none(), MigrationListener.NONE);
            MigrationReport r = from.migrate(spec.id(), MigrationRequest.defaults().withChannels(2), to);
            assertTrue(r.succeeded(), r.toLogLine());
            assertTrue(!source.has(spec.id()));
            assertEquals(VmStatus.RUNNING, target.info(spec.id()).status());
            Machine m = target.vm(spec.id()).machine();
            m.pause();
            PageWalkCheck.Result check = PageWalkCheck.registerRule(m.memory(), walk, m.saveState());
            assertTrue(check.ok(), check.toString());
        } finally {
            source.close();
            target.close();
        }
    }
}
