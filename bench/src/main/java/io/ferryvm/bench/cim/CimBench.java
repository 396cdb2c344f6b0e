package io.ferryvm.bench.cim;

import com.typesafe.config.ConfigFactory;
import io.ferryvm.cim.CimBackend;
import io.ferryvm.cim.CimException;
import io.ferryvm.cim.CimServer;
import io.ferryvm.cim.CimServerConfig;
import io.ferryvm.cim.CimStatus;
import io.ferryvm.cim.CimUser;
import io.ferryvm.cim.PasswordHash;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.ActorSystem;

/**
 * The CIM provider serving 1,000 VMs: GetInstance of one VM and EnumerateInstances of all of them over
 * CIM-XML/HTTP on 127.0.0.1, with 1, 8 and 64 concurrent clients; requests/s and latency percentiles
 * (HdrHistogram). The baseline, measured in the same run against the same server, is the HTTP floor: a
 * GET the server refuses with 405 before any CIM work (connection, parsing, response; no XML, no auth).
 * The backend is an in-memory table (what the provider costs, not the cluster's orchestrator). Never run
 * by mvn verify.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.ferryvm.bench.cim.CimBench [seconds per run, default 10]</pre>
 */
public final class CimBench {
    private static final int VMS = 1000;
    private static final String PASSWORD = "bench-password";

    private CimBench() {}

    /** A read-only backend: 4 hosts of 2 NUMA nodes, 1,000 VMs spread over them, half of them running. */
    static final class TableBackend implements CimBackend {
        private final List<Host> hosts = new ArrayList<>();
        private final List<Vm> vms = new ArrayList<>();
        private final Map<String, Vm> byName = new HashMap<>();

        TableBackend() {
            for (int h = 1; h <= 4; h++) {
                hosts.add(new Host("host" + h, "pekko://ferry@127.0.0.1:" + (25520 + h), true, false,
                        HostInventory.declared("host" + h, 2, 16, 2, 256L << 30)));
            }
            for (int i = 0; i < VMS; i++) {
                VmSpec spec = VmSpec.of(String.format(Locale.ROOT, "vm%04d", i), 1 + i % 4, (256L + 64 * (i % 8)) << 20, new Workload.Idle());
                Vm vm = new Vm(spec, i % 2 == 0 ? VmStatus.RUNNING : VmStatus.STOPPED, "host" + (1 + i % 4), false, false, Binding.NONE);
                vms.add(vm);
                byName.put(spec.name(), vm);
            }
        }

        private static CimException readOnly() {
            return new CimException(CimStatus.NOT_SUPPORTED, "the benchmark's backend is read-only");
        }

        @Override
        public List<Host> hosts() {
            return hosts;
        }

        @Override
        public List<Vm> vms() {
            return vms;
        }

        @Override
        public Optional<Vm> vm(String name) {
            return Optional.ofNullable(byName.get(name));
        }

        @Override
        public Vm define(VmSpec spec, String host) {
            throw readOnly();
        }

        @Override
        public Vm changeState(String vm, StateChange change) {
            throw readOnly();
        }

        @Override
        public void destroy(String vm) {
            throw readOnly();
        }

        @Override
        public Vm redefine(String vm, VmSpec spec) {
            throw readOnly();
        }

        @Override
        public Vm relocate(String vm, String host) {
            throw readOnly();
        }

        @Override
        public Optional<String> migrationRefusal(String vm, String host) {
            return Optional.of("the benchmark's backend is read-only");
        }

        @Override
        public UUID migrate(String vm, String host, MigrationTuning tuning) {
            throw readOnly();
        }

        @Override
        public void cancelMigration(UUID migration) {
            throw readOnly();
        }

        @Override
        public List<Migration> migrations() {
            return List.of();
        }

        @Override
        public AutoCloseable subscribe(Consumer<Event> listener) {
            return () -> { };
        }
    }

    private record Row(String operation, int clients, long requests, double seconds, Histogram latency, long bytes) {
        double rate() {
            return requests / seconds;
        }
    }

    private interface Request {
        HttpRequest next();
    }

    public static void main(String[] args) throws Exception {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path dir = Files.createTempDirectory("ferry-cim-bench-");
        ActorSystem system = ActorSystem.create("cim-bench", ConfigFactory.parseString("pekko.loglevel = WARNING"));
        CimServerConfig config = CimServerConfig.loopback(0, -1, dir, List.of(CimUser.administrator("admin",
                PasswordHash.hash(PASSWORD.toCharArray())))).withLimits(new CimServerConfig.Limits(4L << 20, 512, 100_000,
                Duration.ofSeconds(60), Math.max(2, Runtime.getRuntime().availableProcessors() * 2), 4096));
        CimServer server = CimServer.start(config, new TableBackend(), system);
        try {
            String url = server.httpUrl() + "/cimom";
            String auth = "Basic " + Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
            Request floor = () -> HttpRequest.newBuilder(URI.create(url)).GET().build();
            Request getInstance = () -> cim(url, auth, "GetInstance", "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME="
                    + "\"Ferry_ComputerSystem\"><KEYBINDING NAME=\"CreationClassName\"><KEYVALUE>Ferry_ComputerSystem</KEYVALUE>"
                    + "</KEYBINDING><KEYBINDING NAME=\"Name\"><KEYVALUE>" + String.format(Locale.ROOT, "vm%04d",
                            ThreadLocalRandom.current().nextInt(VMS)) + "</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>");
            Request enumerate = () -> cim(url, auth, "EnumerateInstances", "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME "
                    + "NAME=\"Ferry_ComputerSystem\"/></IPARAMVALUE>");
            System.out.printf(Locale.ROOT, "CIM provider, %d VMs, CIM-XML over HTTP on 127.0.0.1, %d s per row, %d cores%n%n", VMS, seconds,
                    Runtime.getRuntime().availableProcessors());
            List<Row> rows = new ArrayList<>();
            for (int clients : new int[] {1, 8, 64}) {
                Row base = run("HTTP floor (405)", floor, clients, seconds, 405);
                rows.add(base);
                rows.add(run("GetInstance", getInstance, clients, seconds, 200));
                rows.add(run("EnumerateInstances", enumerate, clients, seconds, 200));
            }
            System.out.println("| operation | clients | requests/s | vs HTTP floor | p50 ms | p99 ms | max ms | response KiB |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            Map<Integer, Double> floors = new HashMap<>();
            for (Row r : rows) {
                if (r.operation().startsWith("HTTP")) {
                    floors.put(r.clients(), r.rate());
                }
            }
            for (Row r : rows) {
                System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.3f | %.2f | %.2f | %.2f | %.1f |%n", r.operation(), r.clients(), r.rate(),
                        r.rate() / floors.get(r.clients()), r.latency().getValueAtPercentile(50) / 1e6,
                        r.latency().getValueAtPercentile(99) / 1e6, r.latency().getMaxValue() / 1e6,
                        r.bytes() / (double) Math.max(1, r.requests()) / 1024);
            }
        } finally {
            server.close();
            system.terminate();
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static HttpRequest cim(String url, String auth, String method, String params) {
        String body = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" "
                + "PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"" + method + "\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
                + "<NAMESPACE NAME=\"virtualization\"/></LOCALNAMESPACEPATH>" + params + "</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>";
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/xml; charset=\"utf-8\"").header("CIMOperation", "MethodCall")
                .header("CIMMethod", method).header("CIMObject", "root%2Fvirtualization").header("Authorization", auth)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
    }

    /** clients threads, each with its own connection, send requests back to back: a warm-up second, then seconds measured. */
    private static Row run(String name, Request request, int clients, int seconds, int expected) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        Histogram all = new Histogram(60_000_000_000L, 3);
        AtomicLong count = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        long end = warmEnd + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        List<Histogram> perThread = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < clients; t++) {
            Histogram h = new Histogram(60_000_000_000L, 3);
            perThread.add(h);
            Thread th = new Thread(() -> {
                try {
                    while (true) {
                        long start = System.nanoTime();
                        if (start >= end) {
                            return;
                        }
                        HttpResponse<byte[]> r = http.send(request.next(), HttpResponse.BodyHandlers.ofByteArray());
                        long done = System.nanoTime();
                        if (r.statusCode() != expected) {
                            throw new IllegalStateException(name + ": HTTP " + r.statusCode());
                        }
                        if (start >= warmEnd && done <= end) {
                            h.recordValue(done - start);
                            count.incrementAndGet();
                            bytes.addAndGet(r.body().length);
                        }
                    }
                } catch (Exception e) {
                    errors.add(e);
                }
            }, "bench-client-" + t);
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException(name + " failed: " + errors.get(0), errors.get(0));
        }
        for (Histogram h : perThread) {
            all.add(h);
        }
        Row row = new Row(name, clients, count.get(), seconds, all, bytes.get());
        System.out.printf(Locale.ROOT, "%-20s %3d clients: %8.0f req/s  p99 %.2f ms%n", name, clients, row.rate(),
                all.getValueAtPercentile(99) / 1e6);
        return row;
    }
}
