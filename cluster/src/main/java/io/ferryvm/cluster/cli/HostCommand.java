package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry host ...}: list, show (NUMA topology with pinned vCPUs), evacuate. */
@Command(name = "host", mixinStandardHelpOptions = true, description = "Manage hosts.",
        subcommands = {HostCommand.ListHosts.class, HostCommand.Show.class, HostCommand.Evacuate.class})
final class HostCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static List<List<String>> hostRows(JsonNode hosts) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode h : hosts) {
            JsonNode st = h.get("status");
            JsonNode inv = st.get("inventory");
            long mem = 0;
            for (JsonNode n : inv.get("nodes")) {
                mem += n.get("memoryBytes").asLong();
            }
            rows.add(List.of(h.get("host").asText(), h.get("up").asBoolean() ? (h.get("draining").asBoolean() ? "draining" : "up") : "down",
                    String.valueOf(inv.get("cpus").size()), String.valueOf(inv.get("nodes").size()), Sizes.human(mem),
                    Sizes.human(st.get("reservedMemoryBytes").asLong()), String.valueOf(st.get("vms").size()), h.get("address").asText()));
        }
        return rows;
    }

    static final List<String> HOST_HEADER = List.of("HOST", "STATE", "CPUS", "NODES", "MEMORY", "VM MEMORY", "VMS", "ADDRESS");

    @Command(name = "list", description = "List hosts.")
    static final class ListHosts implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Override
        public Integer call() {
            Tables.print(System.out, HOST_HEADER, hostRows(api.client().get("/api/hosts")));
            return 0;
        }
    }

    @Command(name = "show", description = "Show a host: NUMA nodes, CPUs and the vCPUs pinned to them.")
    static final class Show implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "Host name.")
        String host;

        @Override
        public Integer call() throws IOException {
            JsonNode h = api.client().get("/api/hosts/" + host);
            JsonNode st = h.get("status");
            for (JsonNode n : st.get("inventory").get("nodes")) {
                System.out.printf("node %d: CPUs %s, %s, distances %s%n", n.get("id").asInt(), n.get("cpus"),
                        Sizes.human(n.get("memoryBytes").asLong()), n.get("distances"));
            }
            for (JsonNode v : st.get("vms")) {
                JsonNode info = v.get("info");
                System.out.printf("  %s (%s): vCPU->CPUs %s, memory %s%n", info.get("name").asText(), info.get("status").asText().toLowerCase(),
                        info.get("binding").get("vcpuCpus"), info.get("binding").get("memory"));
            }
            return 0;
        }
    }

    @Command(name = "evacuate", description = "Drain a host for maintenance: live-migrate every VM off it.")
    static final class Evacuate implements Callable<Integer> {
        @Mixin
        ApiOptions api;

        @Parameters(description = "Host name.")
        String host;

        @Option(names = "--no-wait", description = "Return once the plan is accepted.")
        boolean noWait;

        @Option(names = "--json", description = "Progress and the reports as JSON lines (for scripts).")
        boolean json;

        @Option(names = "--timeout", defaultValue = "1800", description = "Seconds to wait for every migration (default ${DEFAULT-VALUE}).")
        long timeout;

        @Override
        public Integer call() {
            FerryClient c = api.client();
            if (noWait) {
                JsonNode plan = c.post("/api/hosts/" + host + "/evacuate", null);
                for (JsonNode m : plan.get("moves")) {
                    System.out.println("  " + m.get("vmName").asText() + ": " + m.get("from").asText() + " -> " + m.get("to").asText());
                }
                System.out.println(host + " is draining; " + plan.get("moves").size() + " migration(s) planned");
                return 0;
            }
            Progress progress = new Progress(System.out, Progress.detect(json), "evacuate " + host, "VMs", System::nanoTime);
            List<JsonNode> ends = MigrationFollower.evacuateAndFollow(c, progress, java.time.Duration.ofSeconds(timeout),
                    () -> c.post("/api/hosts/" + host + "/evacuate", null));
            int failed = 0;
            for (JsonNode s : ends) {
                failed += s.get("success").asBoolean() ? 0 : 1;
                if (json) {
                    System.out.println(FerryClient.JSON.createObjectNode().put("event", "migration-ended").set("summary", s));
                } else {
                    System.out.println(Tables.summary(s));
                }
            }
            String done = host + " is draining; " + ends.size() + " migration(s) ended, " + failed + " failed";
            if (json) {
                System.out.println(FerryClient.JSON.createObjectNode().put("event", "evacuation-ended").put("host", host)
                        .put("migrations", ends.size()).put("failed", failed));
            } else {
                System.out.println(done);
            }
            return failed == 0 ? 0 : 1;
        }
    }
}
