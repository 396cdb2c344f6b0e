package io.ferryvm.bench.migration;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MemoryPolicy;
import io.ferryvm.migration.Compression;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.MigrationListener;
import io.ferryvm.migration.MigrationReport;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationService;
import io.ferryvm.migration.TcpTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * The side-by-side migration benchmark: the physical limits of this machine measured in the same run
 * (raw loopback TCP, LZ4 per 4 KiB page on the same memory image), then Ferry migrating the issue's
 * guests over TCP on 127.0.0.1, unlimited and under a 128 MiB/s cap, with stop-and-copy as the naive
 * baseline. Not run by {@code mvn verify}; see bench/README.md "## migration" for the command.
 *
 * <p>Arguments: scenario names to run (default: all), e.g. {@code idle-1g random-1g pagewalk}; {@code quick}
 * runs only the 1 GiB guests; {@code unlimited} or {@code capped} only that link; {@code variant=post-copy}
 * only variants whose name contains that text; {@code repeat=N} each row N times; {@code nolimits} skips
 * the physical-limit measurements; {@code events} prints the progress event of every iteration;
 * {@code settle=S} waits S seconds just before each migration (see below).
 *
 * <p>Host memory temperature. Each row's target backs fresh host memory while it receives, and on a VM whose
 * hypervisor takes freed memory back (virtio-balloon free page reporting, as on the machine of the README's
 * figures) that costs far more when the pages were freed more than a few seconds ago: 0.05-0.07 s per GiB
 * warm against 0.3-3.5 s cold. Which one a row gets depends on what the rows before it freed and when, so
 * every row prints a probe taken just before its migration ("backing ms/GiB": 64 MiB of fresh memory
 * populated and freed), {@code settle=5} makes every row start cold, as a fresh target host does, and
 * {@code prewarm} backs and frees as much memory as the guest has just before each migration, so the target
 * backs warm memory (the nearest this process gets to QEMU's pre-allocated destination). "cpu ms" is the
 * CPU time of this whole process during the migration (both hosts; time the hypervisor below spends
 * backing a page counts, the vCPU waits for it): less sensitive to other processes than wall time.
 */
public final class MigrationBench {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;
    private static final long CAP = 128 * MIB;

    private static boolean EVENTS;
    private static long SETTLE_MS;
    private static boolean PREWARM;

    record Scenario(String name, long memory, Workload workload, long fillPages) {}

    record Row(String scenario, String cap, String variant, MigrationReport r, double backingMsPerGib, long cpuMs, long limitMs) {}

    public static void main(String[] args) throws Exception {
        List<String> only = Arrays.asList(args);
        boolean quick = only.contains("quick");
        boolean unlimitedOnly = quick || only.contains("unlimited");
        boolean cappedOnly = only.contains("capped");
        System.out.println("# Ferry migration benchmark, " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        EVENTS = only.contains("events");
        PREWARM = only.contains("prewarm");
        SETTLE_MS = only.stream().filter(a -> a.startsWith("settle=")).map(a -> (long) (Double.parseDouble(a.substring(7)) * 1000)).findFirst().orElse(0L);
        int repeat = only.stream().filter(a -> a.startsWith("repeat=")).map(a -> Integer.parseInt(a.substring(7))).findFirst().orElse(1);
        List<String> variants = only.stream().filter(a -> a.startsWith("variant=")).map(a -> a.substring(8)).toList();
        if (!only.contains("nolimits")) {
            physicalLimits();
        }
        List<Scenario> all = List.of(
                new Scenario("idle-1g", GIB, new Workload.Idle(), 0),
                new Scenario("idle-4g", 4 * GIB, new Workload.Idle(), 0),
                new Scenario("random-1g", GIB, new Workload.Fill(2, 0, 1), GIB / 4096),
                new Scenario("random-4g", 4 * GIB, new Workload.Fill(75, 0, 1), 4 * GIB / 4096),
                new Scenario("mixed-1g", GIB, new Workload.Fill(40, 30, 2), GIB / 4096),
                new Scenario("mixed-4g", 4 * GIB, new Workload.Fill(40, 30, 2), 4 * GIB / 4096),
                new Scenario("pagewalk", GIB, new Workload.PageWalk(MIB, 511 * MIB, 0), 0));
        List<Row> rows = new ArrayList<>();
        Path dir = Files.createTempDirectory("ferry-bench-migration");
        // Warm-up (JIT, Kryo, thread pools): not reported.
        for (int i = 0; i < 3; i++) {
            run(dir, new Scenario("warmup", 128 * MIB, new Workload.Fill(40, 30, 9), 128 * MIB / 4096), "-", "warm-up",
                    MigrationRequest.defaults().withChannels(1 + i % 2));
        }
        for (Scenario s : all) {
            if (only.stream().anyMatch(a -> a.contains("-") || a.equals("pagewalk")) && !only.contains(s.name())) {
                continue;
            }
            if (quick && s.memory() > GIB) {
                continue;
            }
            for (long cap : unlimitedOnly ? new long[] {0} : cappedOnly ? new long[] {CAP} : new long[] {0, CAP}) {
                String capName = cap == 0 ? "unlimited" : "128MiB/s";
                MigrationRequest base = MigrationRequest.defaults().withChannels(2).withBandwidth(cap).withTimeout(Duration.ofMinutes(5));
                Map<String, MigrationRequest> vs = new LinkedHashMap<>();
                if (s.workload() instanceof Workload.PageWalk) {
                    vs.put("pre-copy+auto-converge", base.withAutoConverge(true).withMaxIterations(12));
                    vs.put("post-copy after 1 pass", base.withMaxIterations(1).withNonConvergence(MigrationRequest.NonConvergence.POST_COPY));
                    // The "under 100 ms downtime": the same requests with that as the limit.
                    MigrationRequest tight = base.withDowntimeLimit(Duration.ofMillis(100));
                    vs.put("pre-copy+auto-converge, limit 100 ms", tight.withAutoConverge(true).withMaxIterations(12));
                    vs.put("post-copy after 1 pass, limit 100 ms", tight.withMaxIterations(1).withNonConvergence(MigrationRequest.NonConvergence.POST_COPY));
                } else {
                    vs.put("pre-copy lz4", base);
                    if (cap == 0) {
                        vs.put("pre-copy raw", base.withCompression(Compression.NONE));
                        vs.put("pre-copy raw 1ch", base.withChannels(1).withCompression(Compression.NONE));
                        // Like QEMU's -mem-prealloc destination (the 0.25 s / 0.36 s reference rows):
                        // the target backs its memory at prepare, so setup grows and the transfer shrinks.
                        vs.put("pre-copy raw prealloc", base.withCompression(Compression.NONE).withPreallocate(true));
                        vs.put("pre-copy raw 1ch prealloc", base.withChannels(1).withCompression(Compression.NONE).withPreallocate(true));
                    }
                }
                vs.put("stop-and-copy", base.withStopAndCopy(true));
                for (Map.Entry<String, MigrationRequest> v : vs.entrySet()) {
                    if (!variants.isEmpty() && variants.stream().noneMatch(x -> v.getKey().contains(x))) {
                        continue;
                    }
                    for (int i = 0; i < repeat; i++) {
                        rows.add(run(dir, s, capName, v.getKey(), v.getValue()));
                    }
                }
            }
        }
        System.out.println();
        System.out.println("| guest | link | variant | outcome | total ms | transfer ms | downtime src ms | downtime dst ms | iter | wire MB | guest GB/s | backing ms/GiB | cpu ms |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Row row : rows) {
            MigrationReport r = row.r();
            long transfer = r.total().minus(r.setup()).toMillis();
            System.out.println(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %d | %.1f | %.1f | %d | %.1f | %.2f | %.0f | %d |", row.scenario(),
                    row.cap(), row.variant(), r.outcome() == MigrationReport.Outcome.SUCCEEDED ? r.mode() : r.outcome() + ": "
                            + (r.failure() == null ? "" : r.failure().describe()), r.total().toMillis(), transfer,
                    r.downtime().toNanos() / 1e6, r.targetDowntime().toNanos() / 1e6, r.iterations(), r.wireBytes() / 1e6,
                    transfer == 0 ? 0 : r.memoryBytes() / (transfer / 1e3) / 1e9, row.backingMsPerGib(), row.cpuMs()));
        }
        // The ">= 99% of converged runs within the downtime limit": live rows only (stop-and-copy's
        // downtime is the whole copy by design), source-measured downtime against each request's limit.
        List<Row> live = rows.stream().filter(x -> x.r().succeeded() && !x.r().mode().equals("stop-and-copy")).toList();
        long within = live.stream().filter(x -> x.r().downtime().toMillis() <= x.limitMs()).count();
        double worst = live.stream().mapToDouble(x -> x.r().downtime().toNanos() / 1e6).max().orElse(0);
        System.out.println(String.format(Locale.ROOT, "%ndowntime within the limit: %d of %d completed live migrations (%.1f%%; stop-and-copy excluded), worst %.1f ms",
                within, live.size(), live.isEmpty() ? 100.0 : 100.0 * within / live.size(), worst));
        live.stream().filter(x -> x.r().downtime().toMillis() > x.limitMs()).forEach(x -> System.out.println(String.format(Locale.ROOT,
                "  over: %s %s %s %.1f ms (limit %d ms): final memory %.1f, state %.1f, activation %.1f", x.scenario(), x.cap(), x.variant(),
                x.r().downtime().toNanos() / 1e6, x.limitMs(), x.r().finalMemory().toNanos() / 1e6, x.r().state().toNanos() / 1e6,
                x.r().activation().toNanos() / 1e6)));
    }

    private static Row run(Path dir, Scenario s, String cap, String variant, MigrationRequest req) throws IOException {
        Path d = Files.createTempDirectory(dir, s.name());
        Host a = Host.open(new HostConfig("a", d.resolve("a"), HostInventory.declared("a", 1, 2, 1, 64 * GIB), null, null));
        Host b = Host.open(new HostConfig("b", d.resolve("b"), HostInventory.declared("b", 1, 2, 1, 64 * GIB), null, null));
        try {
            TcpTransport tcp = new TcpTransport();
            MigrationListener events = EVENTS ? e -> System.out.println(String.format(Locale.ROOT,
                    "  event %s it=%d dirty=%d rate=%.0fMiB/s throttle=%d expected=%dms", e.phase(), e.iteration(), e.dirtyPages(),
                    e.dirtyRateMiBps(), e.throttlePercent(), e.expectedDowntimeMillis())) : MigrationListener.NONE;
            MigrationService from = new MigrationService(a, tcp, Failpoints.none(), events);
            MigrationService to = new MigrationService(b, tcp, Failpoints.none(), MigrationListener.NONE);
            VmSpec spec = VmSpec.of(s.name(), 1, s.memory(), s.workload());
            a.define(spec);
            a.start(spec.id());
            Machine m = a.vm(spec.id()).machine();
            if (s.fillPages() > 0) {
                waitSteps(m, s.fillPages()); // the fill guest writes every page once, then halts
            } else if (s.workload() instanceof Workload.PageWalk) {
                waitSteps(m, 3 * 511 * 256); // a few passes over the range
            }
            if (SETTLE_MS > 0) {
                LockSupport.parkNanos(SETTLE_MS * 1_000_000L); // let the hypervisor take freed host memory back
            }
            if (PREWARM) {
                try (GuestMemory warm = GuestMemory.allocate(s.memory(), MemoryPolicy.DEFAULT, false)) {
                    warm.populate(0, warm.pageCount()); // freed just below: the target's backing reuses these pages
                }
            }
            double backing = backingProbe();
            long cpu0 = processCpuNanos();
            MigrationReport r = from.migrate(spec.id(), req, to);
            long cpuMs = (processCpuNanos() - cpu0) / 1_000_000;
            System.out.println(s.name() + " " + cap + " " + variant + ": backing " + Math.round(backing) + " ms/GiB, cpu " + cpuMs + " ms, "
                    + r.toLogLine());
            return new Row(s.name(), cap, variant, r, backing, cpuMs, req.downtimeLimit().toMillis());
        } finally {
            a.close();
            b.close();
        }
    }

    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    /** Milliseconds per GiB to back fresh host memory now: 64 MiB populated (huge pages advised) and freed. */
    private static double backingProbe() {
        long size = 64 * MIB;
        try (GuestMemory m = GuestMemory.allocate(size, MemoryPolicy.DEFAULT, false)) {
            long t0 = System.nanoTime();
            m.populate(0, m.pageCount());
            return (System.nanoTime() - t0) / 1e6 * (GIB / (double) size);
        }
    }

    private static void waitSteps(Machine m, long steps) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (m.totalSteps() < steps && System.nanoTime() < deadline) {
            LockSupport.parkNanos(5_000_000L);
        }
    }

    /** Loopback TCP, one stream, and LZ4 per 4 KiB page on a mixed image: the ceilings for this machine. */
    private static void physicalLimits() throws Exception {
        long bytes = 2 * GIB;
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread sink = new Thread(() -> {
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    byte[] buf = new byte[1 << 20];
                    while (in.read(buf) >= 0) {
                        // drain
                    }
                } catch (IOException ignored) {
                    // the sender closed
                }
            });
            sink.start();
            byte[] buf = new byte[1 << 20];
            long t0 = System.nanoTime();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort()); OutputStream out = s.getOutputStream()) {
                for (long sent = 0; sent < bytes; sent += buf.length) {
                    out.write(buf);
                }
            }
            sink.join();
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.println(String.format(Locale.ROOT, "limit: raw loopback TCP, 1 stream: %.2f GB/s", bytes / secs / 1e9));
        }
        loopbackIntoMemory();
        long image = 256 * MIB;
        try (Machine m = io.ferryvm.core.machine.Machine.create("image", GuestMemory.allocate(image),
                io.ferryvm.core.guest.GuestPrograms.create(new Workload.Fill(40, 30, 2), image, 1), io.ferryvm.core.machine.Binding.NONE,
                io.ferryvm.core.machine.CpuBinder.NOOP, io.ferryvm.core.Ticker.SYSTEM)) {
            m.start(false);
            waitSteps(m, image / 4096);
            m.pause();
            LZ4Compressor c = LZ4Factory.fastestInstance().fastCompressor();
            LZ4SafeDecompressor dz = LZ4Factory.fastestInstance().safeDecompressor();
            byte[] out = new byte[c.maxCompressedLength(4096)];
            byte[] back = new byte[4096];
            long pages = image / 4096;
            byte[][] packed = new byte[(int) pages][];
            long in = 0;
            long packedBytes = 0;
            byte[] all = new byte[(int) image];
            m.memory().read(0, all, 0, all.length);
            for (int w = 0; w < 2; w++) { // warm-up
                for (int off = 0; off < all.length; off += 4096) {
                    c.compress(all, off, 4096, out, 0, out.length);
                }
            }
            long t0 = System.nanoTime();
            for (long p = 0; p < pages; p++) {
                int n = c.compress(all, (int) (p * 4096), 4096, out, 0, out.length);
                packed[(int) p] = Arrays.copyOf(out, n);
                in += 4096;
                packedBytes += n;
            }
            double ct = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            for (byte[] pk : packed) {
                dz.decompress(pk, 0, pk.length, back, 0, 4096);
            }
            double dt = (System.nanoTime() - t0) / 1e9;
            System.out.println(String.format(Locale.ROOT,
                    "limit: LZ4 per 4 KiB page, mixed image (40%% zero, 30%% text, 30%% random), 1 core: ratio %.2f, compress %.2f GB/s, decompress %.2f GB/s",
                    (double) in / packedBytes, in / ct / 1e9, in / dt / 1e9));
        }
    }

    /**
     * The floor for moving 1 GiB of random data between two processes' memory here: plain sockets, 1 MiB
     * writes, a destination backed beforehand (as with QEMU's -mem-prealloc), read either straight into it
     * (what QEMU's multifd receiver does) or through an 8 MiB receive buffer and one copy (what a receiver
     * must do that checks a frame before a byte of it reaches guest memory). No checksums, no protocol.
     */
    private static void loopbackIntoMemory() throws Exception {
        int size = (int) (GIB - MIB);
        ByteBuffer src = ByteBuffer.allocateDirect(size);
        ByteBuffer dst = ByteBuffer.allocateDirect(size);
        try {
            byte[] block = new byte[(int) MIB];
            java.util.Random rnd = new java.util.Random(7);
            for (int off = 0; off < size; off += block.length) {
                rnd.nextBytes(block);
                src.put(off, block);
            }
            passCosts(src);
            blast(src, dst, 1, false); // warm-up: the first run here took 3.5-4.4 s (first use of the buffers' pages)
            for (int streams : new int[] {1, 2}) {
                for (boolean staged : new boolean[] {false, true}) {
                    long best = Long.MAX_VALUE;
                    StringBuilder runs = new StringBuilder();
                    for (int run = 0; run < 3; run++) {
                        long ms = blast(src, dst, streams, staged);
                        best = Math.min(best, ms);
                        runs.append(run == 0 ? "" : ", ").append(ms);
                    }
                    System.out.println(String.format(Locale.ROOT,
                            "limit: 1 GiB of random data over loopback TCP into pre-backed memory, %d stream%s, %s: best %d ms (%.2f GB/s; runs %s ms)",
                            streams, streams == 1 ? "" : "s", staged ? "through an 8 MiB receive buffer + one copy" : "read straight into it",
                            best, size / (best / 1e3) / 1e9, runs));
                }
            }
        } finally {
            free(src);
            free(dst);
        }
    }

    /**
     * What each pass Ferry's data path makes over a page costs on one core here, per GiB of random data:
     * the sender's copy into a frame (1 MiB at a time, as a batch), CRC32C over frames (both sides) and the
     * per-MiB xxHash64 digest (both sides). Best of three.
     */
    private static void passCosts(ByteBuffer src) {
        int chunks = src.capacity() / (int) MIB;
        ByteBuffer batch = ByteBuffer.allocateDirect((int) MIB);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        net.jpountz.xxhash.XXHash64 xxh = net.jpountz.xxhash.XXHashFactory.fastestInstance().hash64();
        long copy = Long.MAX_VALUE;
        long crcs = Long.MAX_VALUE;
        long hashes = Long.MAX_VALUE;
        long sink = 0;
        for (int run = 0; run < 3; run++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < chunks; c++) {
                batch.clear();
                batch.put(src.slice(c * (int) MIB, (int) MIB));
            }
            long t1 = System.nanoTime();
            for (int c = 0; c < chunks; c++) {
                crc.reset();
                crc.update(src.slice(c * (int) MIB, (int) MIB));
                sink += crc.getValue();
            }
            long t2 = System.nanoTime();
            for (int c = 0; c < chunks; c++) {
                sink += xxh.hash(src, c * (int) MIB, (int) MIB, 0);
            }
            long t3 = System.nanoTime();
            copy = Math.min(copy, t1 - t0);
            crcs = Math.min(crcs, t2 - t1);
            hashes = Math.min(hashes, t3 - t2);
        }
        double perGib = (double) GIB / src.capacity() / 1e6;
        System.out.println(String.format(Locale.ROOT,
                "limit: one pass over 1 GiB of random data, 1 core: copy into 1 MiB frames %.0f ms, CRC32C %.0f ms, xxHash64 %.0f ms (checksum %d)",
                copy * perGib, crcs * perGib, hashes * perGib, sink & 1));
    }

    private static long blast(ByteBuffer src, ByteBuffer dst, int streams, boolean staged) throws Exception {
        int share = (src.capacity() / streams) & ~(int) (MIB - 1);
        try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open()) {
            server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), streams);
            java.nio.channels.SocketChannel[] out = new java.nio.channels.SocketChannel[streams];
            java.nio.channels.SocketChannel[] in = new java.nio.channels.SocketChannel[streams];
            for (int i = 0; i < streams; i++) {
                out[i] = java.nio.channels.SocketChannel.open(server.getLocalAddress());
                in[i] = server.accept();
            }
            List<Thread> threads = new ArrayList<>();
            java.util.concurrent.atomic.AtomicReference<Exception> failed = new java.util.concurrent.atomic.AtomicReference<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < streams; i++) {
                int k = i;
                threads.add(started(() -> {
                    try (java.nio.channels.SocketChannel ch = out[k]) {
                        for (int off = 0; off < share; off += (int) MIB) {
                            ByteBuffer w = src.slice(k * share + off, (int) MIB);
                            while (w.hasRemaining()) {
                                ch.write(w);
                            }
                        }
                    } catch (Exception e) {
                        failed.set(e);
                    }
                }));
                threads.add(started(() -> {
                    try (java.nio.channels.SocketChannel ch = in[k]) {
                        ByteBuffer into = dst.slice(k * share, share);
                        ByteBuffer buf = staged ? ByteBuffer.allocateDirect((int) (8 * MIB)) : null;
                        while (into.hasRemaining()) {
                            if (!staged) {
                                if (ch.read(into) < 0) {
                                    throw new IOException("closed early");
                                }
                                continue;
                            }
                            buf.clear().limit(Math.min(buf.capacity(), into.remaining()));
                            if (ch.read(buf) < 0) {
                                throw new IOException("closed early");
                            }
                            into.put(buf.flip());
                        }
                    } catch (Exception e) {
                        failed.set(e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failed.get() != null) {
                throw failed.get();
            }
            return (System.nanoTime() - t0) / 1_000_000;
        }
    }

    private static Thread started(Runnable r) {
        Thread t = new Thread(r, "bench-blast");
        t.start();
        return t;
    }

    private static void free(ByteBuffer direct) {
        try {
            java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            ((sun.misc.Unsafe) f.get(null)).invokeCleaner(direct);
        } catch (ReflectiveOperationException e) {
            System.gc(); // the buffer goes with its next collection instead
        }
    }

    private MigrationBench() {}

}
