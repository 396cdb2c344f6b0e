package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Starts migrations and follows them on the event stream: the stream is opened first, so no event of
 * the migration can be missed, then the request is sent; progress is shown until the end event(s).
 */
final class MigrationFollower {
    private MigrationFollower() {}

    /** Starts one migration (start returns its id) and follows it; returns the end summary. */
    static JsonNode startAndFollow(FerryClient client, Progress progress, Duration timeout, Supplier<String> start) {
        AtomicReference<String> id = new AtomicReference<>();
        AtomicReference<JsonNode> end = new AtomicReference<>();
        follow(client, timeout, () -> {
            id.set(start.get());
            return 1;
        }, (name, data) -> {
            if (name.equals("migration-progress") && data.get("progress").get("migrationId").asText().equals(id.get())) {
                show(progress, data.get("progress"));
            } else if (name.equals("migration-ended") && data.get("summary").get("migrationId").asText().equals(id.get())) {
                end.set(data.get("summary"));
                return false;
            }
            return true;
        });
        progress.end();
        if (end.get() != null) {
            return end.get();
        }
        return awaitRecord(client, id.get(), timeout);
    }

    /**
     * Starts a host evacuation (start returns the plan) and follows its migrations: one bar over the
     * planned moves, the running one's bytes in its detail; returns the end summaries.
     */
    static List<JsonNode> evacuateAndFollow(FerryClient client, Progress progress, Duration timeout, Supplier<JsonNode> start) {
        AtomicReference<JsonNode> plan = new AtomicReference<>();
        Map<String, JsonNode> ended = new HashMap<>();
        Set<String> planned = new java.util.HashSet<>();
        follow(client, timeout, () -> {
            JsonNode p = start.get();
            plan.set(p);
            for (JsonNode m : p.get("moves")) {
                planned.add(m.get("vm").asText());
                progress.message("  " + m.get("vmName").asText() + ": " + m.get("from").asText() + " -> " + m.get("to").asText());
            }
            return planned.size();
        }, (name, data) -> {
            if (name.equals("migration-progress") && planned.contains(data.get("progress").get("vm").asText())) {
                JsonNode p = data.get("progress");
                progress.update("migrating", ended.size(), planned.size(), Double.NaN, String.format(Locale.ROOT,
                        "%s %s sent, %s left", p.get("phase").asText().toLowerCase(Locale.ROOT),
                        Sizes.human(p.get("transferredBytes").asLong()), Sizes.human(p.get("remainingBytes").asLong())));
            } else if (name.equals("migration-ended") && planned.contains(data.get("summary").get("vm").asText())) {
                JsonNode s = data.get("summary");
                ended.put(s.get("vm").asText(), s);
                progress.update("migrating", ended.size(), planned.size(), Double.NaN, s.get("vmName").asText()
                        + (s.get("success").asBoolean() ? " done" : " FAILED"));
                return ended.size() < planned.size();
            }
            return true;
        });
        progress.end();
        return new ArrayList<>(ended.values());
    }

    static void show(Progress progress, JsonNode p) {
        long sent = p.get("transferredBytes").asLong();
        long left = p.get("remainingBytes").asLong();
        progress.update(p.get("phase").asText().toLowerCase(Locale.ROOT), sent, sent + left,
                p.get("bandwidthMiBps").asDouble() * (1 << 20), String.format(Locale.ROOT,
                        "it %d, dirty %.1f MiB/s, est. downtime %d ms, throttle %d%%", p.get("iteration").asInt(),
                        p.get("dirtyRateMiBps").asDouble(), p.get("expectedDowntimeMs").asLong(), p.get("throttlePercent").asInt()));
    }

    /** Opens the stream, runs start once it is open (returns how many ends to wait for; 0: none), reads until handler says stop. */
    private static void follow(FerryClient client, Duration timeout, Supplier<Integer> start, FerryClient.EventHandler handler) {
        CountDownLatch connected = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Integer> expected = new AtomicReference<>(1);
        Thread reader = new Thread(() -> client.events(timeout, connected::countDown, (name, data) -> {
            try {
                started.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return false;
            }
            return expected.get() > 0 && handler.onEvent(name, data);
        }), "ferry-events");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!connected.await(30, TimeUnit.SECONDS)) {
                throw new FerryClient.ApiException(0, "could not open the event stream at " + client.base());
            }
            try {
                expected.set(start.get());
            } finally {
                started.countDown();
            }
            if (expected.get() > 0) {
                reader.join(timeout.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The stream ended first (a server restart, a proxy): the orchestrator keeps the record; ask it. */
    private static JsonNode awaitRecord(FerryClient client, String id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode m = client.get("/api/migrations/" + id);
            if (m.hasNonNull("summary")) {
                return m.get("summary");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
        }
        throw new FerryClient.ApiException(0, "migration " + id + " did not end within " + timeout.toSeconds() + " s");
    }
}
