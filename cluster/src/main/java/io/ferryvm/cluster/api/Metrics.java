package io.ferryvm.cluster.api;

import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Prometheus metrics for {@code GET /metrics}: the cluster's VMs and hosts as gauges (from the
 * orchestrator at scrape time) and migration counters and histograms (from the event stream).
 */
final class Metrics {
    private final ClusterApi api;
    private final PrometheusRegistry registry;
    private final Gauge vms;
    private final Gauge hosts;
    private final Gauge memory;
    private final Gauge dirtyRate;
    private final Counter migrations;
    private final Counter wire;
    private final Counter pages;
    private final Histogram downtime;
    private final Histogram total;

    Metrics(ClusterApi api, ActorSystem<?> system, NodeMetrics node) {
        this.api = api;
        this.registry = node.registry();
        vms = Gauge.builder().name("ferry_vms").help("VMs in the cluster by status")
            .labelNames("status").register(registry);
        hosts = Gauge.builder().name("ferry_hosts").help("hosts in the cluster by state")
            .labelNames("state").register(registry);
        memory = Gauge.builder().name("ferry_host_vm_memory_bytes").help("guest memory of active VMs per host")
            .labelNames("host").register(registry);
        dirtyRate = Gauge.builder().name("ferry_vm_dirty_bytes_per_second")
                .help("guest page-write rate of running VMs (bytes of pages written per second)").labelNames("vm", "host")
                .register(registry);
        migrations = Counter.builder().name("ferry_migrations").help("migrations ended, by outcome")
            .labelNames("outcome").register(registry);
        wire = Counter.builder().name("ferry_migration_wire_bytes").help("bytes migrations put on the wire")
            .register(registry);
        pages = Counter.builder().name("ferry_migration_pages").help("guest pages migrations sent, by page codec")
                .labelNames("codec").register(registry);
        downtime = Histogram.builder().name("ferry_migration_downtime_seconds")
            .help("guest downtime of successful migrations").classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5)
            .register(registry);
        total = Histogram.builder().name("ferry_migration_duration_seconds")
            .help("total time of migrations").classicUpperBounds(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300).register(registry);
        ActorRef<ClusterEvent> counter = system.systemActorOf(Behaviors.receive(ClusterEvent.class)
                .onMessage(ClusterEvent.Migration.class, m -> {
                    if (m.summary() != null) {
                        record(m.summary());
                    }
                    return Behaviors.same();
                })
                .onAnyMessage(m -> Behaviors.same())
                .build(), "metrics-" + java.util.UUID.randomUUID(), Props.empty());
        api.subscribe(counter);
    }

    private void record(MigrationSummary s) {
        migrations.labelValues(s.success() ? "succeeded" : "failed").inc();
        wire.inc(s.wireBytes());
        s.pagesByCodec().forEach((codec, n) -> pages.labelValues(codec.toLowerCase(java.util.Locale.ROOT)).inc(n));
        if (s.success()) {
            downtime.observe(s.downtimeMs() / 1000.0);
        }
        total.observe(s.totalMs() / 1000.0);
    }

    CompletionStage<HttpResponse> scrape() {
        return api.vms().thenCombine(api.hosts(), (vl, hl) -> {
            vms.clear();
            for (io.ferryvm.core.VmStatus st : io.ferryvm.core.VmStatus.values()) {
                vms.labelValues(st.name().toLowerCase()).set(0);
            }
            vms.labelValues("lost").set(0);
            long[] active = new long[1];
            java.util.Map<String, Long> mem = new java.util.HashMap<>();
            for (OrchestratorProtocol.VmView v : vl.vms()) {
                String label = v.placement() == OrchestratorProtocol.Placement.LOST ? "lost" : v.info().status().name().toLowerCase();
                vms.labelValues(label).inc();
                if (v.info().status().isActive() && v.placement() != OrchestratorProtocol.Placement.LOST) {
                    mem.merge(v.host(), v.spec().memoryBytes(), Long::sum);
                    active[0]++;
                }
            }
            dirtyRate.clear();
            for (OrchestratorProtocol.VmView v : vl.vms()) {
                if (v.info().status() == io.ferryvm.core.VmStatus.RUNNING && v.placement() != OrchestratorProtocol.Placement.LOST) {
                    dirtyRate.labelValues(v.spec().name(), v.host()).set(v.info().dirtyRateMiBps() * (1 << 20));
                }
            }
            hosts.clear();
            memory.clear();
            hosts.labelValues("up").set(hl.hosts().stream().filter(h -> h.up() && !h.draining()).count());
            hosts.labelValues("draining").set(hl.hosts().stream().filter(h -> h.up() && h.draining()).count());
            hosts.labelValues("down").set(hl.hosts().stream().filter(h -> !h.up()).count());
            for (OrchestratorProtocol.HostView h : hl.hosts()) {
                memory.labelValues(h.host()).set(mem.getOrDefault(h.host(), 0L));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                PrometheusTextFormatWriter.create().write(out, registry.scrape());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return HttpResponse.create().withEntity(HttpEntities.create(
                    ContentTypes.parse(PrometheusTextFormatWriter.CONTENT_TYPE), out.toByteArray()));
        });
    }
}
