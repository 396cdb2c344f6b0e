package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A fault at every phase of a migration, through the failpoints the product exposes: each point with
 * ERROR (the side fails as on any error), HANG (the side blocks there; the migration is then cancelled,
 * or times out) and CRASH (the node process halts at the point, as under kill -9, and is started again),
 * against three real node processes. After each schedule: the invariants, including the guest's memory
 * against its replay.
 *
 * <p>The default run covers every point with ERROR or HANG (the seed picks) and one seeded CRASH on each side
 * (a crash costs a node restart), plus the schedules that once found a bug; the full run
 * ({@code -Dchaos.full=true}) covers every point with every action.
 */
class FailpointChaosIT {
    /** A point, where it fires, and what the migration must look like for it to be reached. */
    record Point(String name, boolean onSource, Kind kind) {}

    enum Kind { SIMPLE, ITERATING, POST_COPY }

    static final List<Point> POINTS = List.of(
            new Point("source.begin", true, Kind.SIMPLE),
            new Point("target.prepare", false, Kind.SIMPLE),
            new Point("source.connect", true, Kind.SIMPLE),
            new Point("target.hello", false, Kind.SIMPLE),
            new Point("source.precopy.iteration", true, Kind.SIMPLE),
            new Point("source.precopy.iteration.2", true, Kind.ITERATING),
            new Point("target.sync", false, Kind.SIMPLE),
            new Point("target.sync.2", false, Kind.ITERATING),
            new Point("source.switchover", true, Kind.SIMPLE),
            new Point("source.state", true, Kind.SIMPLE),
            new Point("target.ready", false, Kind.SIMPLE),
            new Point("target.finish", false, Kind.SIMPLE),
            new Point("target.activate", false, Kind.SIMPLE),
            new Point("source.confirm", true, Kind.SIMPLE),
            new Point("source.postcopy", true, Kind.POST_COPY),
            new Point("target.postcopy.running", false, Kind.POST_COPY),
            new Point("source.postcopy.stream", true, Kind.POST_COPY));

    /** Failing schedules found by this suite, kept: the bug each found is in the README. */
    static final List<String> REGRESSIONS = List.of("source.confirm=error", "target.finish=error", "target.prepare=crash",
            "target.postcopy.running=hang", "source.postcopy.stream=hang");

    record Schedule(Point point, String action) {
        @Override
        public String toString() {
            return point.name() + "=" + action;
        }
    }

    static ChaosCluster cluster;
    static Invariants invariants;
    /** A slow writer for the simple points, a busy one (dirtier than the capped link) where iterations must repeat. */
    static ChaosCluster.TrackedVm walker;
    static ChaosCluster.TrackedVm busy;

    @BeforeAll
    static void startCluster() {
        cluster = ChaosCluster.shared();
        defineGuests();
    }

    /** The two guests every schedule migrates, on the (possibly fresh) shared cluster. */
    static void defineGuests() {
        invariants = new Invariants(cluster);
        walker = cluster.define("walker", "32M", ChaosCluster.pagewalk(8), false, "host1");
        busy = cluster.define("busy", "16M", ChaosCluster.pagewalk(4), false, "host2");
        for (ChaosCluster.TrackedVm v : List.of(walker, busy)) {
            await().atMost(Duration.ofMinutes(1)).until(() -> cluster.api().get("/api/vms/" + v.id).get("info").get("steps").asLong() > 0);
        }
    }

    @AfterAll
    static void removeGuests() {
        if (cluster != null && !cluster.broken) {
            cluster.clearStoppedMarks();
            for (ChaosCluster.TrackedVm g : List.of(walker, busy)) {
                if (cluster.holder(g).isEmpty()) {
                    cluster.api().call("POST", "/api/vms/" + g.id + "/start", null);
                }
                cluster.remove(g);
            }
        }
    }

    static List<Schedule> schedules() {
        SplittableRandom rnd = Chaos.random("failpoints");
        List<Schedule> out = new ArrayList<>();
        for (Point p : POINTS) {
            if (Chaos.SOAK) {
                out.add(new Schedule(p, "error"));
                out.add(new Schedule(p, "hang"));
            } else {
                // the default run: every point, with ERROR or HANG as the seed says (the full run takes both)
                out.add(new Schedule(p, rnd.nextBoolean() ? "error" : "hang"));
            }
        }
        List<Point> crash = new ArrayList<>(POINTS);
        if (!Chaos.SOAK) {
            // a seeded sample: one crash of each side in pre-copy, one more anywhere
            List<Point> src = crash.stream().filter(p -> p.onSource() && p.kind() == Kind.SIMPLE).toList();
            List<Point> dst = crash.stream().filter(p -> !p.onSource() && p.kind() == Kind.SIMPLE).toList();
            Point a = src.get(rnd.nextInt(src.size()));
            Point b = dst.get(rnd.nextInt(dst.size()));
            crash = List.of(a, b);
        }
        for (Point p : crash) {
            out.add(new Schedule(p, "crash"));
        }
        // schedules that once found a bug run every time (their fixes' regression tests in the product modules)
        for (String r : REGRESSIONS) {
            if (!Chaos.SOAK && r.endsWith("=crash")) {
                continue; // a node restart each: the default run's two seeded crashes already cost two (the fix has its unit test)
            }
            Schedule s = new Schedule(POINTS.stream().filter(p -> p.name().equals(r.split("=")[0])).findFirst().orElseThrow(),
                    r.split("=")[1]);
            if (!out.contains(s)) {
                out.add(s);
            }
        }
        // a seeded order: faults do not always meet the cluster in the same state
        for (int i = out.size() - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            Schedule t = out.get(i);
            out.set(i, out.get(j));
            out.set(j, t);
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyPhaseWithEveryAction() {
        return schedules().stream().map(s -> DynamicTest.dynamicTest(s.toString(), () -> run(s)));
    }

    void run(Schedule s) {
        long t0 = System.nanoTime();
        try {
            schedule(s);
        } finally {
            System.out.println("[chaos] schedule " + s + " took " + (System.nanoTime() - t0) / 1_000_000L + " ms");
        }
    }

    void schedule(Schedule s) {
        if (cluster.broken) {
            // an earlier schedule left the cluster broken (its test failed with the reason): start this one clean
            cluster = ChaosCluster.shared();
            defineGuests();
        }
        ChaosCluster.TrackedVm vm = s.point().kind() == Kind.SIMPLE ? walker : busy;
        java.util.Map<ChaosCluster.TrackedVm, Node> holders = new java.util.HashMap<>();
        for (ChaosCluster.TrackedVm g : List.of(walker, busy)) {
            holders.put(g, cluster.holder(g).orElseGet(() -> restartGuest(g)));
        }
        Node source = holders.get(vm);
        Node target = cluster.nodes.get((source.index + 1) % cluster.nodes.size());
        Node side = s.point().onSource() ? source : target;
        String options = switch (s.point().kind()) {
            case SIMPLE -> Migrations.QUICK;
            case ITERATING -> Migrations.options(8, true, false, 30, 10, "none");
            case POST_COPY -> Migrations.options(8, false, true, 2, 10, "none");
        };
        cluster.arm(side, s.point().name() + "=" + s.action());
        String id;
        try {
            id = Migrations.start(cluster.api(), vm, target.name, options);
        } catch (ChaosException refused) {
            // source.begin refuses synchronously: the migration never started
            id = null;
        }
        if (s.action().equals("crash")) {
            side.expectExit();
            if (!side.awaitExit(90)) {
                Summary.RUN.note("crash at " + s.point().name() + " did not fire within 90 s");
            } else {
                Summary.RUN.fault("failpoint crash (the process halted)");
                holders.forEach((g, h) -> {
                    if (h == side) {
                        g.mayBeStopped.set(true); // its host died and it is not HA: stopped there, definition intact
                    }
                });
                if (s.point().kind() == Kind.POST_COPY) {
                    vm.mayBeStopped.set(true); // post-copy's documented price
                }
                assertEquals(137, side.exitStatus(), side + " should have halted at " + s.point().name() + "\n" + side.tail(20));
                cluster.restart(side);
            }
        } else if (s.action().equals("hang") && id != null) {
            String mid = id;
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                        .until(() -> cluster.fired(side, s.point().name()) || summaryPresent(mid));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                Summary.RUN.note("hang at " + s.point().name() + " never reached");
            }
            cluster.api().call("DELETE", "/api/migrations/" + id, null); // cancel: the source gives up, the target is aborted
        }
        Optional<JsonNode> summary = id == null ? Optional.empty() : Migrations.awaitSummary(cluster, id, Duration.ofMinutes(2));
        if (side.alive()) {
            if (!s.action().equals("crash")) {
                if (cluster.fired(side, s.point().name())) {
                    Summary.RUN.fault("failpoint " + s.action());
                } else {
                    Summary.RUN.note("failpoint " + s + " was armed but not reached (the migration ended before it)");
                }
            }
            cluster.arm(side, "");
        }
        if (s.point().kind() == Kind.POST_COPY && summary.map(x -> x.get("failure").asText().contains("GUEST_LOST")).orElse(false)) {
            vm.mayBeStopped.set(true); // post-copy's documented price: the guest is lost, its definition stays
        }
        record(summary, source, target);
        List<String> v = invariants.check(s.toString(), List.of(walker, busy));
        // A failed migration before finish leaves the guest running on the source.
        if (v.isEmpty() && summary.isPresent() && !summary.get().get("success").asBoolean() && !vm.mayBeStopped.get()) {
            String on = cluster.holder(vm).map(n -> n.name).orElse("nowhere");
            if (!on.equals(source.name)) {
                String w = s + ": the migration failed but the guest runs on " + on + ", not on the source " + source.name;
                Summary.RUN.violation(w);
                v = List.of(w);
            }
        }
        walker.mayBeStopped.set(false);
        busy.mayBeStopped.set(false);
        // one greppable line per schedule: the README's faults x phases matrix is made from these
        System.out.println("[chaos] matrix " + s.point().name() + " " + s.action() + " | " + outcome(summary)
                + " | guest on " + cluster.holder(vm).map(n -> n.name).orElse("none (stopped, definition intact)")
                + " | " + (v.isEmpty() ? "invariants hold" : v.size() + " violation(s)"));
        assertEquals(List.of(), v, Invariants.message(s.toString(), v, logs()));
    }

    /** After a schedule that left the guest stopped (its host crashed, post-copy lost it): start it again. */
    private Node restartGuest(ChaosCluster.TrackedVm vm) {
        cluster.api().ok("POST", "/api/vms/" + vm.id + "/start", null);
        return cluster.holder(vm).orElseThrow(() -> new ChaosException(vm + " did not start again"));
    }

    private boolean summaryPresent(String id) {
        Api.Response r = cluster.api().call("GET", "/api/migrations/" + id, null);
        return r.ok() && r.body().hasNonNull("summary");
    }

    private static String outcome(Optional<JsonNode> summary) {
        if (summary.isEmpty()) {
            return "no summary";
        }
        if (summary.get().get("success").asBoolean()) {
            return "completed";
        }
        String f = summary.get().get("failure").asText();
        return f.contains("GUEST_LOST") ? "guest lost (post-copy)" : "failed, rolled back";
    }

    private static void record(Optional<JsonNode> summary, Node source, Node target) {
        if (summary.isEmpty()) {
            Summary.RUN.migration("no summary (orchestrator or source restarted)");
        } else if (summary.get().get("success").asBoolean()) {
            Summary.RUN.migration("completed");
        } else if (summary.get().get("failure").asText().contains("GUEST_LOST")) {
            Summary.RUN.migration("lost in post-copy (requested)");
        } else {
            Summary.RUN.migration("failed, rolled back");
        }
    }

    private static String logs() {
        StringBuilder b = new StringBuilder();
        for (Node n : cluster.nodes) {
            b.append("--- ").append(n).append('\n').append(n.tail(25)).append('\n');
        }
        return b.toString();
    }
}
