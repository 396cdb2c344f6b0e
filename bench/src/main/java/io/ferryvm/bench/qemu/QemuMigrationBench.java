package io.ferryvm.bench.qemu;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.migration.Compression;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.MigrationListener;
import io.ferryvm.migration.MigrationReport;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationService;
import io.ferryvm.migration.TcpTransport;
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
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The same QEMU guest and workload migrated (a) QEMU to QEMU directly, default single stream, multifd, and
 * multifd into a target that backed its RAM first (prealloc=on, the fastest QEMU configuration),
 * (b) tunnelled through Ferry's channel (raw framing, and LZ4), (c) Ferry's built-in hypervisor migrating a
 * guest of the same memory size running the built-in page walker over the same range at the dirty rate
 * measured on the QEMU walker just before (migration module, pre-copy over {@code TcpTransport}, LZ4 on 2
 * channels and raw on 1), on loopback and under a 1 Gbit/s cap (QEMU's max-bandwidth for (a), Ferry's
 * tunnel rate limit on wire bytes for (b), the migration's bandwidth cap for (c)). Workloads: the page walker over
 * a range of mostly-zero pages ("sparse": one byte per page changes), and the same walker over random page
 * contents ("random": incompressible). Each row: total, QEMU's downtime, Ferry's downtime (source STOP to
 * target RESUME), wire bytes, and ratios against "direct" in the same run; the target's memory is checked
 * with QEMU's page-walk rule after every migration. Each row is the median of --runs runs by total time
 * (every run's log line is printed). Never run by mvn verify.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.ferryvm.bench.qemu.QemuMigrationBench [--walk-mib 64] [--accel tcg] [--downtime-ms 1000] [--runs 3]
 *     [--caps 0,1g] [--workloads sparse,random] [--timeout-s 180] [--max-iterations 30]</pre>
 * Caps are link rates in bits per second with a k/m/g suffix (0 = none). A migration that does not end
 * within the timeout (QEMU) or the iteration bound (built-in) is a row marked failed, not an abort.
 */
public final class QemuMigrationBench {
    private static final long GBIT = 125_000_000L;

    private QemuMigrationBench() {}

    public static void main(String[] args) throws Exception {
        long walkMib = 64;
        Accelerator accel = Accelerator.TCG;
        long downtimeMs = 1000;
        int runs = 3;
        List<Long> caps = List.of(0L, GBIT);
        List<String> workloads = List.of("sparse", "random");
        Duration timeout = Duration.ofMinutes(3);
        int maxIterations = MigrationRequest.defaults().maxIterations();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--walk-mib" -> walkMib = Long.parseLong(args[++i]);
                case "--accel" -> accel = Accelerator.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--downtime-ms" -> downtimeMs = Long.parseLong(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--caps" -> caps = java.util.Arrays.stream(args[++i].split(",")).map(QemuMigrationBench::linkRate).toList();
                case "--workloads" -> workloads = List.of(args[++i].split(","));
                case "--timeout-s" -> timeout = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--max-iterations" -> maxIterations = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("usage: QemuMigrationBench [--walk-mib N] [--accel tcg|kvm|auto] [--downtime-ms N] "
                        + "[--runs N] [--caps 0,1g,100m] [--workloads sparse,random] [--timeout-s N] [--max-iterations N]");
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
            for (String workload : workloads) {
                boolean random = workload.equals("random");
                PageWalkGuest guest = PageWalkGuest.build(dir.resolve(workload), start, end, random);
                for (long cap : caps) {
                    // (c) walks at the rate the QEMU walker reached just now: TCG's speed moves with the machine's load.
                    double qemuRate = qemuDirtyRate(dir, accel, guest, memory);
                    System.out.printf(Locale.ROOT, "  QEMU walker (%s): %.0f MiB/s of page writes%n", workload, qemuRate);
                    List<String[]> rows = new ArrayList<>();
                    QemuMigrationReport base = null;
                    for (QemuMigrationOptions o : List.of(QemuMigrationOptions.direct().withMaxBandwidth(cap),
                            QemuMigrationOptions.direct().withMultifd(2).withMaxBandwidth(cap),
                            QemuMigrationOptions.direct().withMultifd(2).withPreallocate(true).withMaxBandwidth(cap),
                            QemuMigrationOptions.tunnelled().withLz4(false).withTunnelRateLimit(cap),
                            QemuMigrationOptions.tunnelled().withTunnelRateLimit(cap))) {
                        o = o.withDowntimeLimit(limit).withTimeout(timeout);
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
                        rows.add(row(r, base, qemuRate));
                    }
                    for (Map.Entry<String, MigrationRequest> b : Map.of("builtin+lz4 2ch", MigrationRequest.defaults(),
                            "builtin(raw) 1ch", MigrationRequest.defaults().withChannels(1).withCompression(Compression.NONE)).entrySet()
                            .stream().sorted(Map.Entry.comparingByKey()).toList()) {
                        MigrationRequest req = b.getValue().withDowntimeLimit(limit).withBandwidth(cap).withTimeout(Duration.ofMinutes(3))
                                .withMaxIterations(maxIterations);
                        List<BuiltinRun> all = new ArrayList<>();
                        for (int k = 0; k < runs; k++) {
                            BuiltinRun one = migrateBuiltin(dir, start, end, memory, random, qemuRate, req);
                            System.out.printf(Locale.ROOT, "  %s dirty_mibps=%.0f %s%n", b.getKey(), one.dirtyRate(), one.report().toLogLine());
                            all.add(one);
                        }
                        all.sort(Comparator.comparing(x -> x.report().total()));
                        rows.add(builtinRow(b.getKey(), all.get(all.size() / 2), base));
                    }
                    System.out.printf(Locale.ROOT, "%n%s workload, %s:%n", workload, cap == 0 ? "loopback, no cap"
                            : String.format(Locale.ROOT, "%s cap (%d B/s)", cap % GBIT == 0 ? cap / GBIT + " Gbit/s" : cap * 8 / 1_000_000 + " Mbit/s", cap));
                    System.out.printf(Locale.ROOT, "%-22s %10s %12s %12s %14s %9s %9s %12s %7s%n", "mode", "total ms", "qemu dt ms",
                            "ferry dt ms", "wire MB", "time x", "wire x", "dirty MiB/s", "check");
                    rows.forEach(c -> System.out.printf(Locale.ROOT, "%-22s %10s %12s %12s %14s %9s %9s %12s %7s%n", (Object[]) c));
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
            long started = System.nanoTime();
            QemuMigrationReport r;
            try {
                r = QemuMigration.run(src, b, Binding.NONE, o);
            } catch (io.ferryvm.qemu.QemuException e) {
                // Did not converge within the timeout (or failed): a row that says so; the source kept the guest.
                return new QemuMigrationReport(o.label(), "failed", Duration.ofNanos(System.nanoTime() - started), -1, -1, 0, 0, 0, 0,
                        e.getMessage());
            }
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

    /** x against the direct baseline; "-" when the baseline did not complete (no figure to compare with). */
    private static String ratio(String format, long x, long base) {
        return base > 0 ? String.format(Locale.ROOT, format, x / (double) base) : "-";
    }

    /** "0" (none), "1g", "100m", "500k": bits per second, as bytes per second. */
    static long linkRate(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'g' -> 1_000_000_000L;
            case 'm' -> 1_000_000L;
            case 'k' -> 1_000L;
            default -> 1L;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        long bits = Long.parseLong(digits) * unit;
        if (bits < 0 || bits > 0 && bits < 8_000) {
            throw new IllegalArgumentException("cap " + s + ": 0 (none) or at least 8k (bits per second)");
        }
        return bits / 8;
    }

    private static String[] row(QemuMigrationReport r, QemuMigrationReport base, double dirtyRate) {
        if (!r.succeeded()) {
            String why = r.failure() == null ? r.outcome() : r.failure();
            return new String[] {r.mode() + (r.mode().startsWith("tunnelled") && !r.mode().contains("lz4") ? "(raw)" : ""),
                    ">" + r.total().toMillis(), "-", "-", "-", "-", "-", String.format(Locale.ROOT, "%.0f", dirtyRate),
                    why.contains("timed out") || why.contains("within") ? "timeout" : "failed"};
        }
        return new String[] {r.mode() + (r.mode().startsWith("tunnelled") && !r.mode().contains("lz4") ? "(raw)" : ""),
                Long.toString(r.total().toMillis()), Long.toString(r.qemuDowntimeMs()), Long.toString(r.downtimeMs()),
                String.format(Locale.ROOT, "%.1f", r.wireBytes() / 1e6),
                ratio("%.2f", r.total().toNanos(), base.succeeded() ? base.total().toNanos() : 0),
                ratio("%.3f", r.wireBytes(), base.wireBytes()), String.format(Locale.ROOT, "%.0f", dirtyRate), "ok"};
    }

    private static String[] builtinRow(String label, BuiltinRun run, QemuMigrationReport base) {
        MigrationReport r = run.report();
        boolean ok = r.outcome() == MigrationReport.Outcome.SUCCEEDED;
        return new String[] {label, Long.toString(r.total().toMillis()), "-",
                String.format(Locale.ROOT, "%.0f", r.downtime().toNanos() / 1e6), String.format(Locale.ROOT, "%.1f", r.wireBytes() / 1e6),
                ratio("%.2f", r.total().toNanos(), base.succeeded() ? base.total().toNanos() : 0),
                ratio("%.3f", r.wireBytes(), base.wireBytes()), String.format(Locale.ROOT, "%.0f", run.dirtyRate()),
                // the migration module checks every page's digest on the target before the guest runs there
                ok ? "digest" : r.outcome().toString()};
    }

    /** One built-in migration and the dirty rate its guest reached just before it (page writes x 4 KiB). */
    record BuiltinRun(MigrationReport report, double dirtyRate) {}

    /**
     * The QEMU walker's dirty rate: 'B' marks 64 passes over the walk range; this counts marks over about
     * three seconds of a freshly booted guest (bench code, so a wall-clock window).
     */
    private static double qemuDirtyRate(Path dir, Accelerator accel, PageWalkGuest guest, long memory) {
        Path run = dir.resolve("rate-" + UUID.randomUUID().toString().substring(0, 8));
        VmSpec spec = new VmSpec(UUID.randomUUID(), "rate", 1, memory, new Workload.Idle(), null,
                List.of(new DiskSpec("boot", guest.disk().toString(), 1 << 20, "raw", "virtio", false)), List.of(), null, "", Map.of());
        try (QemuDriver d = new QemuDriver(new QemuConfig(QemuConfig.locateBinary(), run, accel, Duration.ofSeconds(60), null))) {
            QemuGuest g = d.launch(spec, Binding.NONE);
            waitFor(g, PageWalkGuest.BANNER + "\nB");
            long marks0 = marks(g);
            long t0 = System.nanoTime();
            long deadline = t0 + Duration.ofSeconds(20).toNanos();
            while ((System.nanoTime() - t0 < 3_000_000_000L || marks(g) == marks0) && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            return (marks(g) - marks0) * 64.0 * (guest.walkEnd() - guest.walkStart()) / (1 << 20) / secs;
        }
    }

    private static long marks(QemuGuest g) {
        String s = g.serialOutput();
        return s.substring(s.indexOf(PageWalkGuest.BANNER) + PageWalkGuest.BANNER.length()).chars().filter(c -> c == 'B').count();
    }

    /**
     * (c): Ferry's built-in hypervisor, in this process, two hosts and the migration module over TCP on
     * 127.0.0.1 (as MigrationBench). The guest has the QEMU guest's memory size and runs the built-in page
     * walker over the same range at the QEMU walker's measured rate; for "random" the range is first filled
     * with random bytes, as the QEMU guest's FILL does.
     */
    private static BuiltinRun migrateBuiltin(Path dir, long start, long end, long memory, boolean random, double rate, MigrationRequest req) {
        Path d = dir.resolve("builtin-" + UUID.randomUUID().toString().substring(0, 8));
        long gib = 1L << 30;
        Host a = Host.open(new HostConfig("a", d.resolve("a"), HostInventory.declared("a", 1, 2, 1, 8 * gib), null, null));
        Host b = Host.open(new HostConfig("b", d.resolve("b"), HostInventory.declared("b", 1, 2, 1, 8 * gib), null, null));
        try {
            TcpTransport tcp = new TcpTransport();
            MigrationService from = new MigrationService(a, tcp, Failpoints.none(), MigrationListener.NONE);
            MigrationService to = new MigrationService(b, tcp, Failpoints.none(), MigrationListener.NONE);
            VmSpec spec = VmSpec.of("builtin", 1, memory, new Workload.PageWalk(start, end - start, rate));
            a.define(spec);
            a.start(spec.id());
            Machine m = a.vm(spec.id()).machine();
            if (random) {
                a.pause(spec.id());
                SplittableRandom rnd = new SplittableRandom(42);
                byte[] page = new byte[GuestMemory.PAGE_SIZE];
                for (long addr = start; addr < end; addr += page.length) {
                    rnd.nextBytes(page);
                    page[0] = m.memory().getByte(addr); // the walker's byte stays the walker's
                    m.memory().write(addr, page, 0, page.length);
                }
                a.resume(spec.id());
            }
            // As the QEMU guest before its migration: at least three passes over the range, then the rate over one more second.
            long pages = (end - start) / GuestMemory.PAGE_SIZE;
            waitUntil(() -> m.totalSteps() >= 3 * pages, Duration.ofMinutes(2));
            long w0 = m.pageWrites();
            long t0 = System.nanoTime();
            waitUntil(() -> System.nanoTime() - t0 >= 1_000_000_000L, Duration.ofSeconds(2));
            double measured = (m.pageWrites() - w0) * (double) GuestMemory.PAGE_SIZE / (1 << 20) / ((System.nanoTime() - t0) / 1e9);
            return new BuiltinRun(from.migrate(spec.id(), req, to), measured);
        } finally {
            a.close();
            b.close();
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier done, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("built-in guest: not there within " + max);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
        }
    }
}
