package io.ferryvm.bench.numa;

import io.ferryvm.numa.HostTopology;
import io.ferryvm.numa.Placement;
import io.ferryvm.numa.VmRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;

/**
 * numa-scheduler benchmark driver: Ferry's ClusterScheduler against random fit, Nova-faithful first
 * fit, best fit, worst fit and (fill only) offline best-fit-decreasing, on the same seeded hosts and
 * requests in the same process. Three scenarios, one table each: fill until the first rejection (at
 * each cluster size), steady churn at 70/80/90% memory utilisation, and a burst of 10,000 requests with
 * 1/4/16 concurrent placers (baselines are single-threaded, so their placers take turns under a lock).
 *
 * <pre>java -Xmx8g -cp bench/target/benchmarks.jar io.ferryvm.bench.numa.NumaBench [--fill 100,1000,10000]
 *     [--churn 1000] [--burst 10000] [--seed 42]</pre>
 */
public final class NumaBench {
    /** Above this many hosts the baselines that scan every host per request (random, best fit, BFD) are skipped in fill. */
    private static int scanMax = 1000;
    /** Which online policies to run (all by default). */
    private static List<String> policies = Policies.online();

    private NumaBench() {}

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        Map<String, String> opt = new HashMap<>(Map.of("--fill", "100,1000,10000", "--churn", "1000", "--burst", "10000", "--seed", "42", "--scan-max", "1000", "--policies", String.join(",", Policies.online())));
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        long seed = Long.parseLong(opt.get("--seed"));
        System.out.printf("numa-scheduler benchmark, seed %d, %d CPUs, %s%n", seed, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        // warm-up: every policy's code paths compiled before anything is measured (output discarded)
        java.io.PrintStream out = System.out;
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        fill(new int[] {100}, seed + 1);
        churn(100, seed + 1);
        System.setOut(out);
        scanMax = Integer.parseInt(opt.get("--scan-max"));
        policies = List.of(opt.get("--policies").split(","));
        if (!opt.get("--fill").isEmpty()) {
            fill(ints(opt.get("--fill")), seed);
        }
        if (!opt.get("--churn").isEmpty()) {
            churn(Integer.parseInt(opt.get("--churn")), seed);
        }
        if (!opt.get("--burst").isEmpty()) {
            burst(Integer.parseInt(opt.get("--burst")), seed);
        }
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static Histogram histogram() {
        return new Histogram(60_000_000_000L, 3);
    }

    // ---- fill until the first rejection ----

    static void fill(int[] sizes, long seed) {
        System.out.println();
        System.out.println("## Fill until first rejection (utilisation, hosts used vs lower bound, NUMA confinement, stranding, latency)");
        header("hosts", "policy", "placed", "cpu%", "mem%", "used", "LB", "used/LB", "1-node%", "strand-pCPU", "strand-GiB",
                "place/s", "p50us", "p99us", "p99.9us");
        for (int n : sizes) {
            List<HostTopology> hosts = RequestStream.hosts(n, seed);
            List<VmRequest> consumed = new ArrayList<>();
            long maxPlaced = 0;
            for (String name : policies) {
                if (n > scanMax && (name.equals("random") || name.equals("best-fit"))) {
                    row(String.valueOf(n), name, "skipped: scans every host per request near full (--scan-max " + scanMax + ")");
                    continue;
                }
                Policy p = Policies.create(name, hosts, seed);
                RequestStream stream = new RequestStream(seed);
                Histogram h = histogram();
                long placed = 0;
                long nanos = 0;
                while (true) {
                    VmRequest r = placed < consumed.size() ? consumed.get((int) placed) : stream.next();
                    if (placed >= consumed.size()) {
                        consumed.add(r);
                    } else {
                        stream.next(); // keep the stream aligned with the recorded requests
                    }
                    long t0 = System.nanoTime();
                    Placement pl = p.place(r);
                    long dt = System.nanoTime() - t0;
                    h.recordValue(dt);
                    nanos += dt;
                    if (pl == null) {
                        break;
                    }
                    placed++;
                }
                maxPlaced = Math.max(maxPlaced, placed);
                printFill(n, new Row(name, "", placed + 1, placed, h, nanos / 1e9, p.states()));
            }
            if (n > scanMax) {
                row(String.valueOf(n), "bfd(offline)", "skipped: scans every host per request near full (--scan-max " + scanMax + ")");
                continue;
            }
            // offline best-fit-decreasing over the requests the best online policy saw (its accepted ones plus the rejected one)
            List<VmRequest> batch = Policies.decreasing(consumed.subList(0, (int) maxPlaced + 1), hosts.get(0));
            Policy bfd = Policies.create("bfd", hosts, seed);
            Histogram h = histogram();
            long placed = 0;
            long nanos = 0;
            for (VmRequest r : batch) {
                long t0 = System.nanoTime();
                Placement pl = bfd.place(r);
                long dt = System.nanoTime() - t0;
                h.recordValue(dt);
                nanos += dt;
                if (pl != null) {
                    placed++;
                }
            }
            printFill(n, new Row("bfd(offline)", "", batch.size(), placed, h, nanos / 1e9, bfd.states()));
        }
    }

    private static void printFill(int hosts, Row r) {
        row(String.valueOf(hosts), r.policy, String.valueOf(r.placed), pct(r.cpuUtil), pct(r.memUtil), String.valueOf(r.hostsUsed),
                String.valueOf(r.lowerBound), String.format("%.3f", (double) r.hostsUsed / Math.max(1, r.lowerBound)), pct(r.confined),
                String.format("%.0f", r.strandedCpus), String.format("%.0f", r.strandedGiB), String.format("%.0f", r.perSecond()),
                us(r.micros(50)), us(r.micros(99)), us(r.micros(99.9)));
    }

    // ---- steady churn ----

    static void churn(int n, long seed) {
        System.out.println();
        System.out.println("## Steady churn on " + n + " hosts (Poisson arrivals, mixed-exponential lifetimes; preloaded to the target, then one mean lifetime of arrivals)");
        header("target", "policy", "arrivals", "accept%", "cpu%", "mem%", "1-node%", "strand-pCPU", "strand-GiB", "remote-GiB",
                "place/s", "p50us", "p99us", "p99.9us");
        List<HostTopology> hosts = RequestStream.hosts(n, seed);
        double memCap = hosts.stream().mapToLong(HostTopology::totalMemory).sum();
        RequestStream probe = new RequestStream(seed + 99);
        double meanMem = 0;
        for (int i = 0; i < 100_000; i++) {
            meanMem += probe.next().memoryBytes() / 100_000.0;
        }
        for (double target : new double[] {0.7, 0.8, 0.9}) {
            double live = target * memCap / meanMem;
            double lambda = live / RequestStream.meanLifetime();
            int arrivals = (int) live;
            for (String name : policies) {
                Policy p = Policies.create(name, hosts, seed);
                RequestStream stream = new RequestStream(seed + 7);
                PriorityQueue<Object[]> departures = new PriorityQueue<>((a, b) -> Double.compare((double) a[0], (double) b[0]));
                double used = 0;
                int misses = 0;
                while (used < target * memCap && misses < 100) { // preload with steady-state residual lifetimes
                    VmRequest r = stream.next();
                    Placement pl = p.place(r);
                    if (pl == null) {
                        misses++;
                        continue;
                    }
                    used += r.memoryBytes();
                    departures.add(new Object[] {stream.residualLifetime(), r.id()});
                }
                Histogram h = histogram();
                long nanos = 0;
                long accepted = 0;
                double now = 0;
                for (int i = 0; i < arrivals; i++) {
                    now += stream.exp(1 / lambda);
                    while (!departures.isEmpty() && (double) departures.peek()[0] <= now) {
                        p.release((UUID) departures.poll()[1]);
                    }
                    VmRequest r = stream.next();
                    long t0 = System.nanoTime();
                    Placement pl = p.place(r);
                    long dt = System.nanoTime() - t0;
                    h.recordValue(dt);
                    nanos += dt;
                    if (pl != null) {
                        accepted++;
                        departures.add(new Object[] {now + stream.lifetime(), r.id()});
                    }
                }
                Row row = new Row(name, "", arrivals, accepted, h, nanos / 1e9, p.states());
                row(pct(target), name, String.valueOf(arrivals), pct((double) accepted / arrivals), pct(row.cpuUtil), pct(row.memUtil),
                        pct(row.confined), String.format("%.0f", row.strandedCpus), String.format("%.0f", row.strandedGiB),
                        String.format("%.0f", row.remoteGiB), String.format("%.0f", row.perSecond()), us(row.micros(50)), us(row.micros(99)),
                        us(row.micros(99.9)));
            }
        }
    }

    // ---- burst with concurrent placers ----

    static void burst(int n, long seed) throws Exception {
        System.out.println();
        System.out.println("## Burst of 10,000 requests on " + n + " empty hosts, concurrent placers (wall-clock placements/s; baselines serialise)");
        header("placers", "policy", "placed", "accept%", "place/s", "p50us", "p99us", "p99.9us", "conflicts", "1-node%");
        List<HostTopology> hosts = RequestStream.hosts(n, seed);
        RequestStream stream = new RequestStream(seed + 13);
        List<VmRequest> requests = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            requests.add(stream.next());
        }
        for (int placers : new int[] {1, 4, 16}) {
            for (String name : policies) {
                Policy p = Policies.create(name, hosts, seed);
                boolean serial = !name.equals("ferry");
                AtomicInteger next = new AtomicInteger();
                AtomicInteger placed = new AtomicInteger();
                ExecutorService pool = Executors.newFixedThreadPool(placers);
                List<Future<Histogram>> fs = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int t = 0; t < placers; t++) {
                    fs.add(pool.submit(() -> {
                        Histogram h = histogram();
                        int i;
                        while ((i = next.getAndIncrement()) < requests.size()) {
                            long s0 = System.nanoTime();
                            Placement pl;
                            if (serial) {
                                synchronized (p) {
                                    pl = p.place(requests.get(i));
                                }
                            } else {
                                pl = p.place(requests.get(i));
                            }
                            h.recordValue(System.nanoTime() - s0);
                            if (pl != null) {
                                placed.incrementAndGet();
                            }
                        }
                        return h;
                    }));
                }
                Histogram all = histogram();
                for (Future<Histogram> f : fs) {
                    all.add(f.get());
                }
                double wall = (System.nanoTime() - t0) / 1e9;
                pool.shutdown();
                Row row = new Row(name, "", requests.size(), placed.get(), all, wall, p.states());
                row(String.valueOf(placers), name, String.valueOf(placed.get()), pct(placed.get() / (double) requests.size()),
                        String.format("%.0f", requests.size() / wall), us(row.micros(50)), us(row.micros(99)), us(row.micros(99.9)),
                        String.valueOf(p.conflicts()), pct(row.confined));
            }
        }
    }

    // ---- printing ----

    private static void header(String... cols) {
        row(cols);
        String[] dashes = new String[cols.length];
        Arrays.fill(dashes, "---");
        row(dashes);
    }

    private static void row(String... cols) {
        System.out.println("| " + String.join(" | ", cols) + " |");
    }

    private static String pct(double x) {
        return String.format("%.1f", 100 * x);
    }

    private static String us(double x) {
        return x < 10 ? String.format("%.1f", x) : String.format("%.0f", x);
    }
}
