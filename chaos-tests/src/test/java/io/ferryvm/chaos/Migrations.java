package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** Starting migrations through the REST API and following them to their end. */
final class Migrations {
    private Migrations() {}

    /** MigrationOptions as JSON; timeoutSeconds bounds every wait for the peer (so a stalled peer fails fast). */
    static String options(double bandwidthMiBps, boolean autoConverge, boolean postCopy, int maxIterations, long timeoutSeconds) {
        return options(bandwidthMiBps, autoConverge, postCopy, maxIterations, timeoutSeconds, "lz4");
    }

    /** With compression "none", every non-zero page costs 4 KiB on the wire: migrations of a pagewalk guest take time. */
    static String options(double bandwidthMiBps, boolean autoConverge, boolean postCopy, int maxIterations, long timeoutSeconds,
            String compression) {
        return String.format(Locale.ROOT, "{\"downtimeLimitMs\":300,\"bandwidthMiBps\":%s,\"channels\":2,\"compression\":\"%s\","
                + "\"autoConverge\":%s,\"postCopy\":%s,\"maxIterations\":%d,\"timeoutSeconds\":%d}", bandwidthMiBps, compression,
                autoConverge, postCopy, maxIterations, timeoutSeconds);
    }

    /** A migration that takes several seconds (32 MiB of pagewalk, raw pages, 4 MiB/s): time to hit it mid-way. */
    static final String SLOW = options(4, true, false, 30, 10, "none");

    /** Waits until the proxy forwarded this many more bytes to targets than it had at from (the migration is under way). */
    static void awaitFlow(ChaosCluster c, long from, long bytes) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> c.proxy.bytesToTargets() - from >= bytes);
    }

    static final String QUICK = options(0, true, false, 30, 5);

    /** Starts a migration; returns its id, or throws with the API's answer if it was refused. */
    static String start(Api api, ChaosCluster.TrackedVm vm, String to, String options) {
        Api.Response r = api.call("POST", "/api/migrations", "{\"vm\":\"" + vm.id + "\"" + (to == null ? "" : ",\"to\":\"" + to + "\"")
                + ",\"options\":" + options + "}");
        if (!r.ok()) {
            throw new ChaosException("migration of " + vm + " to " + to + " refused: " + r.status() + " " + r.raw());
        }
        return r.body().get("migrationId").asText();
    }

    /**
     * Waits for the migration's summary (bounded). Empty when the cluster no longer knows the migration
     * (its orchestrator moved with the node it ran on) or it did not end in time.
     */
    static Optional<JsonNode> awaitSummary(ChaosCluster c, String id, Duration atMost) {
        AtomicReference<JsonNode> s = new AtomicReference<>();
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
                Api.Response r = c.api().call("GET", "/api/migrations/" + id, null, Duration.ofSeconds(10));
                if (r.status() == 404) {
                    return true; // forgotten: a new orchestrator
                }
                if (r.ok() && r.body().hasNonNull("summary")) {
                    s.set(r.body().get("summary"));
                    return true;
                }
                return false;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Still listed, still without an outcome: the API never says how the migration ended.
            try {
                Api.Response r = c.api().call("GET", "/api/migrations/" + id, null, Duration.ofSeconds(10));
                if (r.ok() && !r.body().hasNonNull("summary")) {
                    Summary.RUN.violation("migration " + id + " shows no outcome after " + atMost.toSeconds() + " s (state "
                            + r.body().path("state").asText() + ")");
                }
            } catch (ChaosException unreachable) {
                // no node answers: the caller's invariants will say so
            }
            return Optional.empty();
        }
        return Optional.ofNullable(s.get());
    }
}
