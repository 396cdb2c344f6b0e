package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ferry status}: hosts, VMs and running migrations at a glance. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show hosts, VMs and migrations.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ApiOptions api;

    @Override
    public Integer call() {
        FerryClient c = api.client();
        Tables.print(System.out, HostCommand.HOST_HEADER, HostCommand.hostRows(c.get("/api/hosts")));
        System.out.println();
        Tables.print(System.out, Tables.VM_HEADER, Tables.vmRows(c.get("/api/vms")));
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode m : c.get("/api/migrations")) {
            if (!m.hasNonNull("summary")) {
                rows.add(List.of(m.get("vmName").asText(), m.get("source").asText(), m.get("target").asText(), m.get("state").asText()));
            }
        }
        if (!rows.isEmpty()) {
            System.out.println();
            Tables.print(System.out, List.of("MIGRATING", "FROM", "TO", "PHASE"), rows);
        }
        return 0;
    }
}
