package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.RestApi;
import io.ferryvm.cluster.api.VmDefinition;
import io.ferryvm.cluster.node.EmbeddedCluster;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry demo}: the scripted tour. Starts a 3-host embedded cluster, starts VMs with different
 * workloads, live-migrates one under load, evacuates a host, prints every migration report and checks
 * every guest's memory against its deterministic replay. Exits 0 only if every check passes.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the scripted tour on an embedded 3-host cluster.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--hosts", defaultValue = "3", description = "Hosts (default ${DEFAULT-VALUE}).")
    int hosts;

    @Option(names = "--keep-state", description = "Keep the state directory (printed) instead of deleting it.")
    boolean keepState;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        Path dir = Files.createTempDirectory("ferry-demo-");
        long t0 = System.nanoTime();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(hosts, dir, 0, Duration.ofSeconds(7))) {
            FerryClient c = new FerryClient(cluster.apiUrl());
            out.println("== 1. a " + hosts + "-host cluster on 127.0.0.1, API at " + cluster.apiUrl());
            Tables.print(out, HostCommand.HOST_HEADER, HostCommand.hostRows(c.get("/api/hosts")));

            out.println("\n== 2. VMs with different workloads");
            List<VmSpec> specs = List.of(
                    VmSpec.of("web", 2, 256L << 20, new Workload.HotSet(0, 64L << 20, 1.0, 64, 11)),
                    VmSpec.of("db", 1, 128L << 20, new Workload.PageWalk(0, 0, 32)),
                    VmSpec.of("batch", 1, 128L << 20, new Workload.RandomWrites(16, 7)),
                    VmSpec.of("cache", 1, 256L << 20, new Workload.Fill(40, 30, 5)),
                    VmSpec.of("spare", 1, 64L << 20, new Workload.Idle()).withHa(VmSpec.HaPolicy.RESTART));
            for (VmSpec s : specs) {
                c.post("/api/vms?start=true", VmDefinition.of(s));
            }
            waitFor(() -> countRunning(c) == specs.size(), Duration.ofSeconds(60), "every VM to run");
            Tables.print(out, Tables.VM_HEADER, Tables.vmRows(c.get("/api/vms")));

            out.println("\n== 3. live-migrate 'web' while it writes 64 MiB/s");
            String from = hostOf(c, "web");
            String to = otherHost(c, from);
            JsonNode s1 = MigrationFollower.startAndFollow(c, new Progress(out, Progress.detect(false), "migrate web"), Duration.ofMinutes(5), () -> c.post("/api/migrations",
                    new RestApi.MigrationRequestBody("web", to, MigrationOptions.DEFAULT)).get("migrationId").asText());
            out.println(Tables.summary(s1));

            String drain = hostOf(c, "db");
            out.println("\n== 4. evacuate " + drain + " for maintenance");
            JsonNode plan = c.post("/api/hosts/" + drain + "/evacuate", null);
            for (JsonNode m : plan.get("moves")) {
                out.println("  planned: " + m.get("vmName").asText() + " " + m.get("from").asText() + " -> " + m.get("to").asText());
            }
            waitFor(() -> vmsOn(c, drain) == 0 && running(c) == 0, Duration.ofMinutes(5), drain + " to empty");
            out.println("  " + drain + " holds no VM");

            out.println("\n== 5. migration reports");
            List<JsonNode> all = new ArrayList<>();
            c.get("/api/migrations").forEach(all::add);
            all.sort(Comparator.comparing(m -> m.get("migrationId").asText()));
            boolean ok = true;
            for (JsonNode m : c.get("/api/migrations")) {
                if (m.hasNonNull("summary")) {
                    out.println("  " + Tables.summary(m.get("summary")));
                    ok &= m.get("summary").get("success").asBoolean();
                }
            }

            out.println("\n== 6. every guest checked against its deterministic replay");
            Tables.print(out, Tables.VM_HEADER, Tables.vmRows(c.get("/api/vms")));
            for (VmSpec s : specs) {
                JsonNode chk = c.post("/api/vms/" + s.name() + "/check", null);
                out.println("  " + s.name() + ": " + (chk.get("ok").asBoolean() ? "OK  " : "FAIL ") + chk.get("detail").asText());
                ok &= chk.get("ok").asBoolean();
            }
            out.printf("%n%s in %.1f s%n", ok ? "demo OK: every migration succeeded and every guest's memory is exactly its replay"
                    : "demo FAILED", (System.nanoTime() - t0) / 1e9);
            return ok ? 0 : 1;
        } finally {
            if (keepState) {
                out.println("state kept in " + dir);
            } else {
                try (Stream<Path> s = Files.walk(dir)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private static long countRunning(FerryClient c) {
        long n = 0;
        for (JsonNode v : c.get("/api/vms")) {
            if (v.get("info").get("status").asText().equals("RUNNING")) {
                n++;
            }
        }
        return n;
    }

    private static int running(FerryClient c) {
        int n = 0;
        for (JsonNode m : c.get("/api/migrations")) {
            if (!m.hasNonNull("summary")) {
                n++;
            }
        }
        return n;
    }

    private static int vmsOn(FerryClient c, String host) {
        int n = 0;
        for (JsonNode v : c.get("/api/vms")) {
            if (v.get("host").asText().equals(host)) {
                n++;
            }
        }
        return n;
    }

    private static String hostOf(FerryClient c, String vm) {
        return c.get("/api/vms/" + vm).get("host").asText();
    }

    private static String otherHost(FerryClient c, String not) {
        for (JsonNode h : c.get("/api/hosts")) {
            if (!h.get("host").asText().equals(not) && h.get("up").asBoolean()) {
                return h.get("host").asText();
            }
        }
        throw new IllegalStateException("no other host");
    }

    /** Polls the API (the demo is a client) until the condition holds. */
    private static void waitFor(java.util.function.BooleanSupplier cond, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
    }
}
