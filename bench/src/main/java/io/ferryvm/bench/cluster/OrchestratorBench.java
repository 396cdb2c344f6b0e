package io.ferryvm.bench.cluster;

import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.node.EmbeddedCluster;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * The orchestrator's throughput on a 3-host embedded cluster: 1,000 small VMs (4 MiB idle guests) placed
 * and started through the cluster API, 32 requests in flight; then 50 live migrations started at once.
 *
 * <pre>java -Xmx4g -cp bench/target/benchmarks.jar io.ferryvm.bench.cluster.OrchestratorBench [vms, default 1000]</pre>
 */
public final class OrchestratorBench {
    private OrchestratorBench() {}

    public static void main(String[] args) throws Exception {
        int vms = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        Path dir = Files.createTempDirectory("ferry-orch-bench");
        // Hosts big enough for 1,000 one-vCPU VMs at the default 4x CPU overcommit.
        try (EmbeddedCluster c = EmbeddedCluster.start(3, dir, 0, Duration.ofSeconds(7),
                name -> HostInventory.declared(name, 2, 32, 2, 32L << 30))) {
            ClusterApi api = c.first().api();
            Histogram lat = new Histogram(3_600_000_000L, 3);
            Semaphore inFlight = new Semaphore(32);
            List<CompletableFuture<OrchestratorProtocol.Result>> all = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < vms; i++) {
                inFlight.acquire();
                long s = System.nanoTime();
                CompletableFuture<OrchestratorProtocol.Result> f = api.define(VmSpec.of("small-" + i, 1, 4L << 20, new Workload.Idle()),
                        null, true).toCompletableFuture();
                f.whenComplete((r, e) -> {
                    lat.recordValue((System.nanoTime() - s) / 1000);
                    inFlight.release();
                });
                all.add(f);
            }
            long ok = 0;
            for (CompletableFuture<OrchestratorProtocol.Result> f : all) {
                ok += f.get(5, TimeUnit.MINUTES).ok() ? 1 : 0;
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%n| VMs placed and started | failed | seconds | VMs/s | p50 ms | p99 ms | max ms |%n|---|---|---|---|---|---|---|%n"
                            + "| %d | %d | %.1f | %.0f | %.1f | %.1f | %.1f |%n", ok, vms - ok, secs, ok / secs,
                    lat.getValueAtPercentile(50) / 1000.0, lat.getValueAtPercentile(99) / 1000.0, lat.getMaxValue() / 1000.0);

            List<OrchestratorProtocol.VmView> views = api.vms().toCompletableFuture().get(1, TimeUnit.MINUTES).vms();
            List<String> hosts = List.of("host1", "host2", "host3");
            long m0 = System.nanoTime();
            List<java.util.UUID> ids = new ArrayList<>();
            for (int i = 0; i < 50 && i < views.size(); i++) {
                OrchestratorProtocol.VmView v = views.get(i);
                String to = hosts.get((hosts.indexOf(v.host()) + 1) % hosts.size());
                OrchestratorProtocol.MigrationAccepted a = api.migrate(v.spec().name(), to, MigrationOptions.DEFAULT)
                        .toCompletableFuture().get(1, TimeUnit.MINUTES);
                if (a.ok()) {
                    ids.add(a.migrationId());
                }
            }
            List<OrchestratorProtocol.MigrationView> done;
            while (true) {
                done = api.migrations().toCompletableFuture().get(1, TimeUnit.MINUTES).migrations().stream()
                        .filter(m -> ids.contains(m.migrationId()) && m.summary() != null).toList();
                if (done.size() == ids.size()) {
                    break;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
            double msecs = (System.nanoTime() - m0) / 1e9;
            long succeeded = done.stream().filter(m -> m.summary().success()).count();
            double meanDown = done.stream().filter(m -> m.summary().success()).mapToLong(m -> m.summary().downtimeMs()).average().orElse(0);
            long maxDown = done.stream().filter(m -> m.summary().success()).mapToLong(m -> m.summary().downtimeMs()).max().orElse(0);
            System.out.printf(Locale.ROOT, "%n| concurrent migrations | succeeded | seconds | migrations/s | mean downtime ms | max downtime ms |%n"
                    + "|---|---|---|---|---|---|%n| %d | %d | %.1f | %.1f | %.1f | %d |%n", ids.size(), succeeded, msecs,
                    ids.size() / msecs, meanDown, maxDown);
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
