package io.ferryvm.bench.cluster;

import io.ferryvm.cluster.dataplane.PekkoStreamsTransport;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.migration.FrameChannel;
import io.ferryvm.migration.MigrationListener;
import io.ferryvm.migration.MigrationReport;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationService;
import io.ferryvm.migration.TcpTransport;
import io.ferryvm.migration.Transport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The cluster's migration data plane, side by side in one run: a plain socket (the physical limit), the
 * migration module's NIO TCP transport, and Pekko Streams TCP; then a whole 1 GiB migration (mixed
 * content) over each transport. Prints GB/s and ratios against the plain socket.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.ferryvm.bench.cluster.DataPlaneBench [GiB to stream, default 2]</pre>
 */
public final class DataPlaneBench {
    private DataPlaneBench() {}

    public static void main(String[] args) throws Exception {
        long bytes = (args.length > 0 ? Long.parseLong(args[0]) : 2) << 30;
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench",
                com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.actor.provider = local")
                        .withFallback(com.typesafe.config.ConfigFactory.load()));
        try {
            Transport nio = new TcpTransport("127.0.0.1");
            Transport pekko = new PekkoStreamsTransport(system, "127.0.0.1");
            List<String[]> rows = new ArrayList<>();
            double raw = best(3, () -> rawSocket(bytes));
            rows.add(row("plain socket (limit)", raw, raw));
            double n = best(3, () -> channel(nio, bytes));
            rows.add(row("migration NIO TcpTransport", n, raw));
            double p = best(3, () -> channel(pekko, bytes));
            rows.add(row("Pekko Streams TCP", p, raw));
            System.out.println("\nStreaming " + (bytes >> 30) + " GiB in 1 MiB writes, best of 3:");
            print(rows);

            List<String[]> mig = new ArrayList<>();
            for (Transport t : List.of(nio, pekko)) {
                for (int i = 0; i < 2; i++) {
                    MigrationReport r = migrate(t);
                    mig.add(new String[] {t == nio ? "NIO TcpTransport" : "Pekko Streams TCP", String.valueOf(r.total().toMillis()),
                            String.valueOf(r.downtime().toMillis()), String.format(Locale.ROOT, "%.1f", r.wireBytes() / 1e6),
                            String.format(Locale.ROOT, "%.2f", r.effectiveGigabytesPerSecond())});
                }
            }
            System.out.println("\n1 GiB guest, mixed content (40% zero, 30% text, 30% random), 2 channels, LZ4:");
            System.out.println("| transport | total ms | downtime ms | wire MB | guest GB/s |");
            System.out.println("|---|---|---|---|---|");
            for (String[] r : mig) {
                System.out.println("| " + String.join(" | ", r) + " |");
            }
        } finally {
            system.terminate();
        }
    }

    interface Run {
        double gbps() throws Exception;
    }

    static double best(int n, Run r) throws Exception {
        double b = 0;
        for (int i = 0; i < n; i++) {
            b = Math.max(b, r.gbps());
        }
        return b;
    }

    static String[] row(String name, double gbps, double raw) {
        return new String[] {name, String.format(Locale.ROOT, "%.2f", gbps), String.format(Locale.ROOT, "%.2f", gbps / raw)};
    }

    static void print(List<String[]> rows) {
        System.out.println("| path | GB/s | vs plain socket |");
        System.out.println("|---|---|---|");
        for (String[] r : rows) {
            System.out.println("| " + String.join(" | ", r) + " |");
        }
    }

    static double rawSocket(long bytes) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    byte[] b = new byte[1 << 20];
                    long got = 0;
                    for (int k = in.read(b); k >= 0; k = in.read(b)) {
                        got += k;
                    }
                    return got;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long t0 = System.nanoTime();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort()); OutputStream out = s.getOutputStream()) {
                byte[] b = payload();
                for (long sent = 0; sent < bytes; sent += b.length) {
                    out.write(b);
                }
            }
            long got = reader.get();
            return got / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
    }

    static double channel(Transport t, long bytes) throws Exception {
        try (Transport.Listener l = t.listen("bench")) {
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
                try (FrameChannel c = l.accept()) {
                    ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                    long got = 0;
                    while (got < bytes) {
                        b.clear();
                        int k = c.read(b);
                        if (k < 0) {
                            break;
                        }
                        got += k;
                    }
                    return got;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long t0 = System.nanoTime();
            try (FrameChannel c = t.connect(l.endpoint())) {
                byte[] b = payload();
                for (long sent = 0; sent < bytes; sent += b.length) {
                    c.write(new ByteBuffer[] {ByteBuffer.wrap(b)});
                }
                long got = reader.get();
                return got / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
        }
    }

    static byte[] payload() {
        byte[] b = new byte[1 << 20];
        new SplittableRandom(3).nextBytes(b);
        return b;
    }

    static MigrationReport migrate(Transport t) throws Exception {
        Path dir = Files.createTempDirectory("ferry-dataplane");
        Host src = Host.open(new HostConfig("src", dir.resolve("s"), HostInventory.declared("src", 1, 4, 1, 8L << 30), null, null));
        Host dst = Host.open(new HostConfig("dst", dir.resolve("d"), HostInventory.declared("dst", 1, 4, 1, 8L << 30), null, null));
        try {
            VmSpec spec = VmSpec.of("bench", 2, 1L << 30, new Workload.Fill(40, 30, 7));
            src.define(spec);
            src.start(spec.id());
            long perVcpu = (1L << 30) / 4096 / 2;
            while (java.util.Arrays.stream(src.vm(spec.id()).machine().steps()).anyMatch(s -> s < perVcpu)) {
                LockSupport.parkNanos(5_000_000);
            }
            MigrationService from = new MigrationService(src, t, io.ferryvm.migration.Failpoints.none(), MigrationListener.NONE);
            MigrationService to = new MigrationService(dst, t, io.ferryvm.migration.Failpoints.none(), MigrationListener.NONE);
            return from.migrate(spec.id(), MigrationRequest.defaults().withChannels(2), to);
        } finally {
            src.close();
            dst.close();
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
