package io.ferryvm.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The two-copies oracle. A background thread asks every live node for its own view ({@code GET /api/node})
 * a few times a second and keeps every run of every guest it reports: when its vCPUs started and stopped
 * executing on that host, on the machine's wall clock (all node processes share it). A run still open in
 * an incarnation that has died counts until the last poll that saw it open: its real end lies between that
 * and the process's death, a gap no one can see into (a source paused at switchover and halted before the
 * next poll looked like a copy running beside the target's for that gap), so the oracle reports proven
 * overlaps only. Two runs of one VM on two hosts that overlap in time are a guest that ran in two places at
 * once.
 *
 * <p>Why runs and not samples: two polls of two nodes are never simultaneous, so "running here" and
 * "running there" from one sweep may straddle a switchover. Runs are recorded by the hosts themselves,
 * widened to cover real execution (opened before the vCPUs go, closed after they all stopped), and the
 * host keeps the last thousands of them, VMs that left included, so a poll every 250 ms misses none.
 */
final class Observer implements AutoCloseable {
    /** One stretch of execution of a VM on one incarnation of one node. */
    record Run(String node, int incarnation, UUID vm, long fromMicros, long toMicros) {}

    private record Key(String node, int incarnation, UUID vm, long fromMicros) {}

    private final List<Node> nodes;
    private final Map<Key, Long> runs = new ConcurrentHashMap<>();
    /** For runs seen open: the latest time a request was sent that the node answered with the run still open. */
    private final Map<Key, Long> seenOpenAt = new ConcurrentHashMap<>();
    private final Map<String, JsonNode> lastViews = new ConcurrentHashMap<>();
    private final Thread poller;
    private volatile boolean closed;

    Observer(List<Node> nodes) {
        this.nodes = nodes;
        this.poller = new Thread(this::loop, "chaos-observer");
        poller.setDaemon(true);
        poller.start();
    }

    static long nowMicros() {
        Instant i = Instant.now();
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
    }

    private void loop() {
        while (!closed) {
            for (Node n : nodes) {
                if (n.alive()) {
                    poll(n);
                }
            }
            LockSupport.parkNanos(250_000_000L); // the polling period, not a wait for a condition
        }
    }

    /** Reads one node's view now and records its runs; null if it did not answer. */
    JsonNode poll(Node n) {
        int inc = n.incarnation();
        long asked = nowMicros(); // the answer was made after this: a run it shows open was open then
        Api.Response r;
        try {
            r = n.api.call("GET", "/api/node", null, Duration.ofSeconds(3));
        } catch (ChaosException e) {
            return null;
        }
        if (!r.ok() || r.body() == null || !r.body().has("runs")) {
            return null;
        }
        for (JsonNode run : r.body().get("runs")) {
            Key k = new Key(n.name, inc, UUID.fromString(run.get("vm").asText()), run.get("fromMicros").asLong());
            long to = run.get("toMicros").asLong();
            runs.merge(k, to, Math::min); // an open run (MAX) closes; a closed one never reopens
            if (to == Long.MAX_VALUE) {
                seenOpenAt.merge(k, Math.max(asked, k.fromMicros()), Math::max);
            }
        }
        lastViews.put(n.name, r.body());
        return r.body();
    }

    /** Every run known now; an open run of a dead incarnation ends where it was last seen open (proven). */
    List<Run> runs() {
        Map<String, Node> byName = new HashMap<>();
        nodes.forEach(n -> byName.put(n.name, n));
        List<Run> out = new ArrayList<>();
        runs.forEach((k, to) -> {
            long end = to;
            if (end == Long.MAX_VALUE) {
                Long death = byName.get(k.node()).deathOf(k.incarnation());
                if (death != null) {
                    end = Math.min(death, seenOpenAt.getOrDefault(k, k.fromMicros()));
                }
            }
            out.add(new Run(k.node(), k.incarnation(), k.vm(), k.fromMicros(), end));
        });
        return out;
    }

    /** Every pair of runs of one VM on two hosts that overlap, described. */
    List<String> overlaps() {
        return overlaps(runs());
    }

    /** The oracle itself: two runs of one VM on two different hosts that share any instant. */
    static List<String> overlaps(List<Run> runs) {
        Map<UUID, List<Run>> byVm = new HashMap<>();
        for (Run r : runs) {
            byVm.computeIfAbsent(r.vm(), v -> new ArrayList<>()).add(r);
        }
        List<String> out = new ArrayList<>();
        byVm.forEach((vm, rs) -> {
            for (int i = 0; i < rs.size(); i++) {
                for (int j = i + 1; j < rs.size(); j++) {
                    Run a = rs.get(i);
                    Run b = rs.get(j);
                    if (!a.node().equals(b.node()) && a.fromMicros() < b.toMicros() && b.fromMicros() < a.toMicros()) {
                        out.add("VM " + vm + " ran on " + a.node() + "#" + a.incarnation() + " " + span(a) + " and on " + b.node()
                                + "#" + b.incarnation() + " " + span(b) + " at once");
                    }
                }
            }
        });
        return out;
    }

    private static String span(Run r) {
        return "[" + r.fromMicros() + ", " + (r.toMicros() == Long.MAX_VALUE ? "running" : String.valueOf(r.toMicros())) + "]";
    }

    /** The last view a node gave (cached; use poll for a fresh one). */
    JsonNode lastView(Node n) {
        return lastViews.get(n.name);
    }

    int runCount() {
        return runs.size();
    }

    @Override
    public void close() {
        closed = true;
        poller.interrupt();
        try {
            poller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Objects.requireNonNull(poller);
    }
}
