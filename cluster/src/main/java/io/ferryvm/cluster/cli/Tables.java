package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Plain text tables and the migration progress bar. */
final class Tables {
    private Tables() {}

    static void print(PrintStream out, List<String> header, List<List<String>> rows) {
        int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = header.get(i).length();
            for (List<String> r : rows) {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        StringBuilder fmt = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            fmt.append("%-").append(w[i]).append("s").append(i + 1 < w.length ? "  " : "%n");
        }
        out.printf(fmt.toString(), header.toArray());
        for (List<String> r : rows) {
            out.printf(fmt.toString(), r.toArray());
        }
    }

    static List<List<String>> vmRows(JsonNode vms) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode v : vms) {
            JsonNode spec = v.get("spec");
            JsonNode info = v.get("info");
            String placement = v.get("placement").asText();
            rows.add(List.of(spec.get("name").asText(), v.get("host").asText(),
                    placement.equals("ACTIVE") ? info.get("status").asText().toLowerCase(Locale.ROOT) : placement.toLowerCase(Locale.ROOT),
                    spec.get("vcpus").asText(), Sizes.human(spec.get("memoryBytes").asLong()),
                    spec.get("workload").get("program").asText(), info.get("steps").asText(), spec.get("id").asText()));
        }
        return rows;
    }

    static final List<String> VM_HEADER = List.of("NAME", "HOST", "STATUS", "VCPUS", "MEMORY", "PROGRAM", "STEPS", "ID");

    /** "[#########-----------] iteration 3  412.0 MiB sent, 12.0 MiB left  dirty 80.1 MiB/s  expected downtime 20 ms" */
    static String summary(JsonNode s) {
        return String.format(Locale.ROOT, "%s %s -> %s: %s in %d ms, downtime %d ms (memory %d, state %d, activation %d), "
                        + "%d iterations, %s on the wire for %s of guest memory, mean %.1f MB/s%s",
                s.get("vmName").asText(), s.get("source").asText(), s.get("target").asText(),
                s.get("success").asBoolean() ? "migrated" : "FAILED", s.get("totalMs").asLong(), s.get("downtimeMs").asLong(),
                s.get("downtimeMemoryMs").asLong(), s.get("downtimeStateMs").asLong(), s.get("downtimeActivationMs").asLong(),
                s.get("iterations").asInt(), Sizes.human(s.get("wireBytes").asLong()), Sizes.human(s.get("guestBytes").asLong()),
                s.get("meanMBps").asDouble(), s.get("success").asBoolean() ? "" : " -- " + s.get("failure").asText());
    }
}
