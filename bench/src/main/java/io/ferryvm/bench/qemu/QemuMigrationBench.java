package io.ferryvm.bench.qemu;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.qemu.Accelerator;
import io.ferryvm.qemu.PageWalkGuest;
import io.ferryvm.qemu.PageWalkRule;
import io.ferryvm.qemu.QemuConfig;
import io.ferryvm.qemu.QemuDriver;
import io.ferryvm.qemu.QemuGuest;
import io.ferryvm.qemu.QemuMigration;
import io.ferryvm.qemu.QemuMigrationOptions;
import io.ferryvm.qemu.QemuMigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The same QEMU guest and workload migrated (a) QEMU to QEMU directly, default single stream and multifd,
 * (b) tunnelled through Ferry's channel (raw framing, and LZ4), on loopback and under a 1 Gbit/s cap (QEMU's
 * max-bandwidth for (a), Ferry's tunnel rate limit on wire bytes for (b)). Workloads: the page walker over
 * a range of mostly-zero pages ("sparse": one byte per page changes), and the same walker over random page
 * contents ("random": incompressible). Each row: total, QEMU's downtime, Ferry's downtime (source STOP to
 * target RESUME), wire bytes, and ratios against "direct" in the same run; the target's memory is checked
 * with QEMU's page-walk rule after every migration. Each row is the median of --runs runs by total time
 * (every run's log line is printed). Never run by mvn verify.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.ferryvm.bench.qemu.QemuMigrationBench [--walk-mib 64] [--accel tcg] [--downtime-ms 1000] [--runs 3]</pre>
 */
public final class QemuMigrationBench {
    private static final long GBIT = 125_000_000L;

    private QemuMigrationBench() {}

    public static void main(String[] args) throws Exception {
        long walkMib = 64;
        Accelerator accel = Accelerator.TCG;
        long downtimeMs = 1000;
        int runs = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--walk-mib" -> walkMib = Long.parseLong(args[++i]);
                case "--accel" -> accel = Accelerator.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--downtime-ms" -> downtimeMs = Long.parseLong(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("usage: QemuMigrationBench [--walk-mib N] [--accel tcg|kvm|auto] [--downtime-ms N] [--runs N]");
            }
        }
        QemuConfig probe = QemuConfig.defaults(Path.of("."));
        if (!probe.installed()) {
            System.out.println("qemu-system-x86_64 not installed: nothing to measure");
            return;
        }
        Path dir = Files.createTempDirectory("ferry-qemu-bench-");
        long start = 1L << 20;
        long end = start + (walkMib << 20);
        long memory = end + (64L << 20);
        Duration limit = Duration.ofMillis(downtimeMs);
        System.out.printf(Locale.ROOT, "QEMU migration bench: guest %d MiB, walker over %d MiB, %s, downtime limit %d ms, median of %d runs by total time%n",
                memory >> 20, walkMib, accel, downtimeMs, runs);
        try {
            for (String workload : List.of("sparse", "random")) {
                PageWalkGuest guest = PageWalkGuest.build(dir.resolve(workload), start, end, workload.equals("random"));
                for (long cap : new long[] {0, GBIT}) {
                    List<String[]> rows = new ArrayList<>();
                    QemuMigrationReport base = null;
                    for (QemuMigrationOptions o : List.of(QemuMigrationOptions.direct().withMaxBandwidth(cap),
                            QemuMigrationOptions.direct().withMultifd(2).withMaxBandwidth(cap),
                            QemuMigrationOptions.tunnelled().withLz4(false).withTunnelRateLimit(cap),
                            QemuMigrationOptions.tunnelled().withTunnelRateLimit(cap))) {
                        o = o.withDowntimeLimit(limit).withTimeout(Duration.ofMinutes(3));
                        List<QemuMigrationReport> all = new ArrayList<>();
                        for (int k = 0; k < runs; k++) {
                            QemuMigrationReport one = migrate(dir, accel, guest, memory, o);
                            System.out.println("  " + one.toLogLine());
                            all.add(one);
                        }
                        all.sort(Comparator.comparing(QemuMigrationReport::total));
                        QemuMigrationReport r = all.get(all.size() / 2);
                        if (base == null) {
                            base = r;
                        }
                        rows.add(row(r, base));
                    }
                    System.out.printf(Locale.ROOT, "%n%s workload, %s:%n", workload, cap == 0 ? "loopback, no cap" : "1 Gbit/s cap");
                    System.out.printf(Locale.ROOT, "%-22s %10s %12s %12s %14s %9s %9s %7s%n", "mode", "total ms", "qemu dt ms",
                            "ferry dt ms", "wire MB", "time x", "wire x", "check");
                    rows.forEach(c -> System.out.printf(Locale.ROOT, "%-22s %10s %12s %12s %14s %9s %9s %7s%n", (Object[]) c));
                    System.out.println();
                }
            }
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static QemuMigrationReport migrate(Path dir, Accelerator accel, PageWalkGuest guest, long memory, QemuMigrationOptions o) {
        Path run = dir.resolve("run-" + UUID.randomUUID().toString().substring(0, 8));
        VmSpec spec = new VmSpec(UUID.randomUUID(), "bench", 1, memory, new Workload.Idle(), null,
                List.of(new DiskSpec("boot", guest.disk().toString(), 1 << 20, "raw", "virtio", false)), List.of(), null, "", Map.of());
        try (QemuDriver a = new QemuDriver(new QemuConfig(QemuConfig.locateBinary(), run.resolve("a"), accel, Duration.ofSeconds(60), null));
                QemuDriver b = new QemuDriver(new QemuConfig(QemuConfig.locateBinary(), run.resolve("b"), accel, Duration.ofSeconds(60), null))) {
            QemuGuest src = a.launch(spec, Binding.NONE);
            waitFor(src, PageWalkGuest.BANNER + "\nB");
            QemuMigrationReport r = QemuMigration.run(src, b, Binding.NONE, o);
            QemuGuest dst = b.guest(spec.id());
            dst.pause();
            Path dump = run.resolve("walk.mem");
            dst.saveMemory(guest.walkStart(), guest.walkEnd() - guest.walkStart(), dump);
            PageWalkRule.Result check = PageWalkRule.checkDump(dump, guest.pages());
            if (!check.ok()) {
                throw new IllegalStateException(o.label() + ": target memory breaks the page-walk rule: " + check.violations());
            }
            Files.deleteIfExists(dump);
            return r;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Waits (bench code, not a test) for the guest's serial output to show text. */
    private static void waitFor(QemuGuest g, String text) {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!g.serialOutput().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(g.name() + ": no '" + text.replace("\n", "\\n") + "' on serial within 2 min");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
        }
    }

    private static String[] row(QemuMigrationReport r, QemuMigrationReport base) {
        return new String[] {r.mode() + (r.mode().startsWith("tunnelled") && !r.mode().contains("lz4") ? "(raw)" : ""),
                Long.toString(r.total().toMillis()), Long.toString(r.qemuDowntimeMs()), Long.toString(r.downtimeMs()),
                String.format(Locale.ROOT, "%.1f", r.wireBytes() / 1e6),
                String.format(Locale.ROOT, "%.2f", r.total().toNanos() / (double) base.total().toNanos()),
                String.format(Locale.ROOT, "%.3f", r.wireBytes() / (double) base.wireBytes()), "ok"};
    }
}
