package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.RestApi;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry migrate VM --to HOST}: a live migration with a progress bar and its final report. */
@Command(name = "migrate", mixinStandardHelpOptions = true, description = "Live-migrate a VM to another host.")
final class MigrateCommand implements Callable<Integer> {
    @Mixin
    ApiOptions api;

    @Parameters(index = "0", description = "VM name or id.")
    String vm;

    @Option(names = "--to", description = "Target host (default: the scheduler picks one).")
    String to;

    @Option(names = "--live", defaultValue = "true", negatable = true, description = "Live migration (default); --no-live is stop-and-copy.")
    boolean live;

    @Option(names = "--postcopy", description = "Switch to post-copy when pre-copy does not converge (the guest is lost if either side fails after the switch).")
    boolean postcopy;

    @Option(names = "--downtime-ms", defaultValue = "300", description = "Downtime limit in ms (default ${DEFAULT-VALUE}).")
    long downtimeMs;

    @Option(names = "--bandwidth", defaultValue = "0", description = "Bandwidth cap in MiB/s, 0 = unlimited (default).")
    double bandwidth;

    @Option(names = "--channels", defaultValue = "2", description = "Parallel channels (default ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--compression", defaultValue = "lz4", description = "lz4, xor+lz4 or none (default ${DEFAULT-VALUE}).")
    String compression;

    @Option(names = "--direct", description = "QEMU guests: QEMU connects to QEMU directly, Ferry only orchestrates "
            + "(channels > 1 are QEMU's multifd). Default: tunnelled through Ferry's channel with LZ4 framing.")
    boolean direct;

    @Option(names = "--preallocate", description = "The target backs all of the guest's memory before the first page is sent "
            + "(like QEMU's -mem-prealloc on the destination): longer setup, faster transfer.")
    boolean preallocate;

    @Option(names = "--no-auto-converge", description = "Do not throttle the vCPUs when pre-copy does not converge.")
    boolean noAutoConverge;

    @Option(names = "--max-iterations", defaultValue = "30", description = "Pre-copy iterations before giving up or switching (default ${DEFAULT-VALUE}).")
    int maxIterations;

    @Option(names = "--timeout", defaultValue = "600", description = "Seconds to wait for the end (default ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = "--no-wait", description = "Return once the migration started.")
    boolean noWait;

    @Option(names = "--json", description = "Progress and the report as JSON lines (for scripts).")
    boolean json;

    @Override
    public Integer call() {
        FerryClient c = api.client();
        MigrationOptions o = new MigrationOptions(downtimeMs, bandwidth, channels, compression, !noAutoConverge && live, postcopy,
                live ? maxIterations : 1, timeout, direct ? "direct" : "tunnelled", preallocate);
        RestApi.MigrationRequestBody body = new RestApi.MigrationRequestBody(vm, to, live ? o
                : new MigrationOptions(600_000, bandwidth, channels, compression, false, false, 1, timeout, o.hypervisorMode(), preallocate));
        if (noWait) {
            JsonNode a = c.post("/api/migrations", body);
            System.out.println("migration " + a.get("migrationId").asText() + " of " + vm + " to " + a.get("target").asText() + " started");
            return 0;
        }
        Progress progress = new Progress(System.out, Progress.detect(json), "migrate " + vm);
        JsonNode s = MigrationFollower.startAndFollow(c, progress, Duration.ofSeconds(timeout + 30), () -> {
            JsonNode a = c.post("/api/migrations", body);
            progress.message("migrating " + vm + " to " + a.get("target").asText() + " (migration " + a.get("migrationId").asText() + ")");
            return a.get("migrationId").asText();
        });
        if (json) {
            System.out.println(FerryClient.JSON.createObjectNode().put("event", "migration-ended").set("summary", s));
        } else {
            System.out.println(Tables.summary(s));
        }
        return s.get("success").asBoolean() ? 0 : 1;
    }
}
