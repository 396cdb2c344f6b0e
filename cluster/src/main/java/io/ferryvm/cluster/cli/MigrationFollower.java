package io.ferryvm.cluster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Starts migrations and follows them on the event stream: the stream is opened first, so no event of
 * the migration can be missed, then the request is sent; progress is drawn until the end event.
 */
final class MigrationFollower {
    private MigrationFollower() {}

    /** Starts (through start, which returns the migration id) and follows; returns the end summary. */
    static JsonNode startAndFollow(FerryClient client, PrintStream out, boolean bar, Duration timeout, Supplier<String> start) {
        CountDownLatch connected = new CountDownLatch(1);
        AtomicReference<String> id = new AtomicReference<>();
        AtomicReference<JsonNode> end = new AtomicReference<>();
        CountDownLatch idKnown = new CountDownLatch(1);
        Thread reader = new Thread(() -> client.events(timeout, connected::countDown, (name, data) -> {
            try {
                idKnown.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return false;
            }
            if (name.equals("migration-progress") && data.get("progress").get("migrationId").asText().equals(id.get()) && bar) {
                out.print("\r" + Tables.progressBar(data.get("progress")) + "   ");
                out.flush();
            } else if (name.equals("migration-ended") && data.get("summary").get("migrationId").asText().equals(id.get())) {
                end.set(data.get("summary"));
                return false;
            }
            return true;
        }), "ferry-events");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!connected.await(30, TimeUnit.SECONDS)) {
                throw new FerryClient.ApiException(0, "could not open the event stream at " + client.base());
            }
            id.set(start.get());
            idKnown.countDown();
            reader.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (bar) {
            out.println();
        }
        if (end.get() != null) {
            return end.get();
        }
        // The stream ended first (a server restart, a proxy): the orchestrator keeps the record; ask it.
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode m = client.get("/api/migrations/" + id.get());
            if (m.hasNonNull("summary")) {
                return m.get("summary");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
        }
        throw new FerryClient.ApiException(0, "migration " + id.get() + " did not end within " + timeout.toSeconds() + " s");
    }
}
