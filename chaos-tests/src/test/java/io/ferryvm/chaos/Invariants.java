package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The promise, checked after every fault against the nodes themselves and against the cluster's API:
 *
 * <ol>
 *   <li>every VM the harness defined is held by exactly one host: running there (never on two, never on
 *       none once the outcome is known), or stopped there with its definition intact when its host died
 *       without HA (or post-copy lost it); no host keeps a second definition;
 *   <li>no guest ever ran in two places at once (the observer's runs, see {@link Observer});
 *   <li>no migration is left in flight, so a failed or cancelled one left the source running and the target
 *       clean: no guest memory mapped beyond what the host's active VMs use, no NUMA placement held for a
 *       VM that is not active there;
 *   <li>the orchestrator's directory agrees with the hosts: the VM, its host, ACTIVE, every host up;
 *   <li>the running guests' memory equals their deterministic replay and keeps pagewalk's rule
 *       ({@code POST /api/vms/{vm}/check}).
 * </ol>
 * The first four must hold within a bounded time after the fault (the cluster converges: reports every two
 * seconds, stale copies reconciled); past the bound, what is still wrong is a violation.
 */
final class Invariants {
    /** How long a cluster may take to settle after a fault before what is still wrong counts. */
    static final Duration SETTLE = Duration.ofSeconds(60);

    /** A failure message that names the violations first (CI shows the start of it) and the node logs after. */
    static String message(String scenario, List<String> violations, String logs) {
        return scenario + ": " + violations.size() + " invariant violation(s): " + violations + "\n" + logs;
    }

    private final ChaosCluster cluster;

    Invariants(ChaosCluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Waits until the cluster settled into a state that keeps invariants 1, 3 and 4 (at most {@link #SETTLE}),
     * then adds 2 and, for the VMs given, 5. Returns the violations found (each also recorded in the run's
     * summary under the scenario's name).
     */
    List<String> check(String scenario, List<ChaosCluster.TrackedVm> guestsToCheck) {
        AtomicReference<List<String>> last = new AtomicReference<>(List.of("not evaluated"));
        AtomicReference<List<String>> firstWait = new AtomicReference<>();
        long t0 = System.nanoTime();
        try {
            await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).until(() -> {
                List<String> v;
                try {
                    v = settled();
                } catch (ChaosException e) {
                    v = List.of("the cluster did not answer: " + e.getMessage());
                }
                last.set(v);
                if (!v.isEmpty() && firstWait.get() == null) {
                    firstWait.set(v);
                }
                return v.isEmpty();
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // what is still wrong after the bound is reported below
        }
        long waited = (System.nanoTime() - t0) / 1_000_000_000L;
        if (waited >= 10) {
            System.out.println("[chaos] " + scenario + ": settled after " + waited + " s; first waited on " + firstWait.get());
        }
        List<String> out = new ArrayList<>(last.get());
        for (String o : cluster.observer.overlaps()) {
            // each overlap counts once, in the scenario that caused it: the observer keeps every run of the whole session
            if (cluster.reportedOverlaps.add(overlapKey(o))) {
                out.add(o);
            }
        }
        if (out.isEmpty()) {
            for (ChaosCluster.TrackedVm v : guestsToCheck) {
                String g = guest(v);
                if (g != null) {
                    out.add(g);
                }
            }
        }
        for (String v : out) {
            Summary.RUN.violation(scenario + ": " + v);
        }
        if (!out.isEmpty()) {
            cluster.broken = true;
        }
        return out;
    }

    /** An overlap by VM and its two runs' hosts and starts, whichever order they came in and whether they ended since. */
    static String overlapKey(String overlap) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\S+#\\d+) \\[(\\d+),").matcher(overlap);
        List<String> runs = new ArrayList<>();
        while (m.find()) {
            runs.add(m.group(1) + "@" + m.group(2));
        }
        java.util.Collections.sort(runs);
        return overlap.substring(0, Math.max(0, overlap.indexOf(" ran on "))) + " " + runs;
    }

    /** Invariants 1, 3 and 4 as they stand now (empty when they hold). */
    List<String> settled() {
        List<String> out = new ArrayList<>();
        Map<String, JsonNode> views = new HashMap<>();
        for (Node n : cluster.nodes) {
            if (!n.alive()) {
                out.add(n + " is not running");
                continue;
            }
            JsonNode view = cluster.observer.poll(n);
            if (view == null) {
                out.add(n + " does not answer");
                continue;
            }
            views.put(n.name, view);
        }
        if (!out.isEmpty()) {
            return out;
        }
        // 3: nothing in flight, nothing leaked
        for (Node n : cluster.nodes) {
            JsonNode view = views.get(n.name);
            if (view.get("activeMigrations").asInt() != 0) {
                out.add(n.name + " still has " + view.get("activeMigrations").asInt() + " migration(s) in flight");
            }
            long active = 0;
            Set<String> activeIds = new HashSet<>();
            for (JsonNode vm : view.get("vms")) {
                String s = vm.get("status").asText();
                if (s.equals("RUNNING") || s.equals("PAUSED") || s.equals("MIGRATING")) {
                    active += vm.get("memoryBytes").asLong();
                    activeIds.add(vm.get("id").asText());
                }
                if (s.equals("MIGRATING")) {
                    out.add(vm.get("name").asText() + " is still MIGRATING on " + n.name);
                }
            }
            long mapped = view.get("guestMemoryBytes").asLong();
            if (mapped != active) {
                out.add(n.name + " holds " + mapped + " bytes of guest memory, its active VMs " + active
                        + " (a failed migration's memory not freed)");
            }
            for (JsonNode p : view.get("placed")) {
                if (!activeIds.contains(p.asText())) {
                    out.add(n.name + " still holds a NUMA placement for VM " + p.asText() + ", which is not active there");
                }
            }
        }
        // 1: exactly one holder per VM
        Map<String, List<String>> copies = new HashMap<>();
        Map<String, String> statusOn = new HashMap<>();
        for (Node n : cluster.nodes) {
            for (JsonNode vm : views.get(n.name).get("vms")) {
                String id = vm.get("id").asText();
                copies.computeIfAbsent(id, k -> new ArrayList<>()).add(n.name);
                statusOn.put(id + "@" + n.name, vm.get("status").asText() + (vm.get("executing").asBoolean() ? "" : " (not executing)"));
            }
        }
        Set<String> tracked = new HashSet<>();
        for (ChaosCluster.TrackedVm v : cluster.vms()) {
            String id = v.id.toString();
            tracked.add(id);
            List<String> on = copies.getOrDefault(id, List.of());
            if (on.isEmpty()) {
                out.add("VM " + v + " is lost: no host holds its definition");
                continue;
            }
            List<String> running = new ArrayList<>();
            for (String h : on) {
                String s = statusOn.get(id + "@" + h);
                if (s.startsWith("RUNNING") || s.startsWith("PAUSED") || s.startsWith("MIGRATING")) {
                    running.add(h + " " + s);
                }
            }
            if (running.size() > 1) {
                out.add("VM " + v + " is active on " + running.size() + " hosts: " + running);
            }
            if (on.size() > 1) {
                List<String> all = new ArrayList<>();
                on.forEach(h -> all.add(h + " " + statusOn.get(id + "@" + h)));
                out.add("VM " + v + " is defined on " + on.size() + " hosts: " + all);
            }
            String s = statusOn.get(id + "@" + on.get(0));
            if (on.size() == 1 && !s.equals("RUNNING") && !(v.mayBeStopped.get() && s.equals("STOPPED (not executing)"))) {
                out.add("VM " + v + " is " + s + " on " + on.get(0) + (v.mayBeStopped.get() ? "" : ", expected running"));
            }
        }
        // 4: the directory agrees with the hosts
        JsonNode hosts = cluster.api().get("/api/hosts");
        for (JsonNode h : hosts) {
            if (!h.get("up").asBoolean()) {
                out.add("the directory has host " + h.get("host").asText() + " down");
            }
        }
        JsonNode dir = cluster.api().get("/api/vms");
        Set<String> inDirectory = new HashSet<>();
        for (JsonNode e : dir) {
            String id = e.get("spec").get("id").asText();
            inDirectory.add(id);
            List<String> on = copies.getOrDefault(id, List.of());
            if (!tracked.contains(id)) {
                out.add("the directory lists VM " + e.get("spec").get("name").asText() + ", which the harness never kept");
                continue;
            }
            if (on.size() == 1 && !on.get(0).equals(e.get("host").asText())) {
                out.add("the directory places VM " + e.get("spec").get("name").asText() + " on " + e.get("host").asText()
                        + ", it is on " + on.get(0));
            }
            if (!e.get("placement").asText().equals("ACTIVE")) {
                out.add("the directory has VM " + e.get("spec").get("name").asText() + " " + e.get("placement").asText());
            }
        }
        for (String id : tracked) {
            if (!inDirectory.contains(id)) {
                out.add("the directory lost VM " + id);
            }
        }
        for (String id : copies.keySet()) {
            if (!tracked.contains(id)) {
                out.add("a host holds VM " + id + ", which the harness never defined (or removed)");
            }
        }
        return out;
    }

    /** Invariant 5 for one VM: null when its memory equals its replay (and pagewalk's rule holds). */
    String guest(ChaosCluster.TrackedVm v) {
        Api.Response r = cluster.api().call("POST", "/api/vms/" + v.id + "/check", null, Duration.ofMinutes(2));
        if (!r.ok()) {
            return "check of " + v + " answered " + r.status() + " " + r.raw();
        }
        if (v.mayBeStopped.get() && r.body().get("detail").asText().contains("nothing to check")) {
            return null; // stopped with its definition: no memory to check
        }
        return r.body().get("ok").asBoolean() ? null : "guest " + v + " differs from its replay: " + r.body().get("detail").asText();
    }
}
