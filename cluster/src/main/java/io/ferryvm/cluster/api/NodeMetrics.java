package io.ferryvm.cluster.api;

import io.ferryvm.cim.CimRequestObserver;
import io.ferryvm.cluster.orchestrator.Placements;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One node's Prometheus registry: JVM basics, placement latency (where the orchestrator runs) and CIM
 * requests by operation and outcome, plus what {@code GET /metrics} adds at scrape time. One per node, not
 * the process-wide default registry: an embedded cluster runs several nodes in one JVM.
 */
public final class NodeMetrics {
    /** Label values a client can choose (CIM method names) are capped: a hostile client must not grow the registry. */
    private static final int MAX_OPERATIONS = 64;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram placement = Histogram.builder().name("ferry_placement_duration_seconds")
            .help("time the orchestrator took to choose a host and NUMA placement, by kind and outcome")
            .labelNames("kind", "outcome")
            .classicUpperBounds(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25)
            .register(registry);
    private final Counter cimRequests = Counter.builder().name("ferry_cim_requests")
            .help("CIM-XML requests answered, by operation and outcome (OK, a CIM status name, or a refusal)")
            .labelNames("operation", "outcome").register(registry);
    private final Histogram cimDuration = Histogram.builder().name("ferry_cim_request_duration_seconds")
            .help("time to execute CIM operations").labelNames("operation")
            .classicUpperBounds(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5).register(registry);
    private final Set<String> operations = ConcurrentHashMap.newKeySet();

    public NodeMetrics() {
        JvmMetrics.builder().register(registry);
    }

    PrometheusRegistry registry() {
        return registry;
    }

    public Placements.Observer placementObserver() {
        return (kind, outcome, nanos) -> placement.labelValues(kind, outcome).observe(nanos / 1e9);
    }

    public CimRequestObserver cimObserver() {
        return (operation, outcome, nanos) -> {
            String op = operationLabel(operation);
            cimRequests.labelValues(op, outcome).inc();
            if (!operation.equals("refused")) {
                cimDuration.labelValues(op).observe(nanos / 1e9);
            }
        };
    }

    private String operationLabel(String operation) {
        if (operations.contains(operation)) {
            return operation;
        }
        if (operations.size() < MAX_OPERATIONS && operation.length() <= 64 && operation.chars().allMatch(
                c -> c < 128 && (Character.isLetterOrDigit(c) || c == '_'))) {
            operations.add(operation);
            return operation;
        }
        return "other";
    }
}
