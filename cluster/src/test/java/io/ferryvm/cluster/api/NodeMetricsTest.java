package io.ferryvm.cluster.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CIM request and placement metrics, and the cap on label values a client chooses. */
class NodeMetricsTest {
    private static Map<String, Double> scrape(NodeMetrics m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, m.registry().scrape());
        return PromText.parse(out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void cimRequestsByOperationAndOutcomeWithClientChosenNamesCapped() throws Exception {
        NodeMetrics m = new NodeMetrics();
        m.cimObserver().answered("GetInstance", "OK", 2_000_000);
        m.cimObserver().answered("GetInstance", "NOT_FOUND", 1_000_000);
        m.cimObserver().answered("refused", "request-not-well-formed", 0);
        // A hostile client inventing method names must not grow the registry without bound.
        for (int i = 0; i < 1000; i++) {
            m.cimObserver().answered("Bogus" + i, "METHOD_NOT_FOUND", 1000);
        }
        m.cimObserver().answered("weird name\"}", "METHOD_NOT_FOUND", 1000);
        m.placementObserver().decided("new", "placed", 50_000);
        Map<String, Double> s = scrape(m);
        assertEquals(1.0, s.get("ferry_cim_requests_total{operation=\"GetInstance\",outcome=\"OK\"}"));
        assertEquals(1.0, s.get("ferry_cim_requests_total{operation=\"GetInstance\",outcome=\"NOT_FOUND\"}"));
        assertEquals(1.0, s.get("ferry_cim_requests_total{operation=\"refused\",outcome=\"request-not-well-formed\"}"));
        long operations = s.keySet().stream().filter(k -> k.startsWith("ferry_cim_requests_total{"))
                .map(k -> k.replaceAll(".*operation=\"([^\"]*)\".*", "$1")).distinct().count();
        assertTrue(operations <= 65, "operations kept: " + operations);
        assertTrue(s.get("ferry_cim_requests_total{operation=\"other\",outcome=\"METHOD_NOT_FOUND\"}") >= 1000 - 64, s.toString());
        assertEquals(1.0, s.get("ferry_placement_duration_seconds_count{kind=\"new\",outcome=\"placed\"}"));
        assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jvm_threads_current")), "JVM basics");
    }
}
