package io.ferryvm.chaos;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one chaos run did and found, across every suite in the JVM: faults injected by kind, migrations by
 * outcome, hostile inputs tried by target, invariant violations and crashes (each with its description).
 * Printed once as a table when the test session ends ({@link SummaryListener}), and by any suite that
 * wants its own numbers.
 */
final class Summary {
    static final Summary RUN = new Summary();

    private final Map<String, AtomicLong> faults = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> migrations = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> inputs = new ConcurrentHashMap<>();
    private final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<String> crashes = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<String> notes = java.util.Collections.synchronizedList(new ArrayList<>());
    private final long started = System.nanoTime();

    void fault(String kind) {
        faults.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    /** outcome: completed, rolled-back (failed, the guest went on at the source), lost (post-copy), ... */
    void migration(String outcome) {
        migrations.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
    }

    void inputs(String target, long n) {
        inputs.computeIfAbsent(target, k -> new AtomicLong()).addAndGet(n);
    }

    void violation(String what) {
        violations.add(what);
        System.out.println("[chaos] VIOLATION " + what);
    }

    void crash(String what) {
        crashes.add(what);
        System.out.println("[chaos] CRASH " + what);
    }

    /** A line for the end of the table (what was skipped and why, what the machine did not allow). */
    void note(String line) {
        if (!notes.contains(line)) {
            notes.add(line);
        }
    }

    /** True before any suite recorded anything. */
    boolean isEmpty() {
        return faults.isEmpty() && migrations.isEmpty() && inputs.isEmpty() && violations.isEmpty() && crashes.isEmpty();
    }

    long violationCount() {
        return violations.size();
    }

    long crashCount() {
        return crashes.size();
    }

    List<String> violations() {
        return List.copyOf(violations);
    }

    static long sum(Map<String, AtomicLong> m) {
        return m.values().stream().mapToLong(AtomicLong::get).sum();
    }

    void print(PrintStream out) {
        out.println();
        out.println("==================== Ferry chaos summary ====================");
        out.printf(Locale.ROOT, "seed %d, %s run, %.0f s%n", Chaos.SEED, Chaos.SOAK ? "soak" : "default",
                (System.nanoTime() - started) / 1e9);
        row(out, "faults injected", sum(faults), new TreeMap<>(faults));
        row(out, "migrations", sum(migrations), new TreeMap<>(migrations));
        row(out, "inputs tried", sum(inputs), new TreeMap<>(inputs));
        out.printf(Locale.ROOT, "%-22s %8d%n", "invariant violations", violations.size());
        List<String> shown = List.copyOf(new java.util.LinkedHashSet<>(violations()));
        shown.stream().limit(20).forEach(v -> out.println("    - " + v));
        if (shown.size() > 20) {
            out.println("    ... " + (shown.size() - 20) + " more (each printed as [chaos] VIOLATION when it was found)");
        }
        out.printf(Locale.ROOT, "%-22s %8d%n", "crashes", crashes.size());
        crashes.forEach(c -> out.println("    - " + c));
        notes.forEach(n -> out.println("note: " + n));
        if (!violations.isEmpty()) {
            out.println("first violation: " + violations.get(0));
        }
        out.println("=============================================================");
    }

    private static void row(PrintStream out, String name, long total, Map<String, AtomicLong> parts) {
        out.printf(Locale.ROOT, "%-22s %8d%n", name, total);
        parts.forEach((k, v) -> out.printf(Locale.ROOT, "    %-34s %8d%n", k, v.get()));
    }
}
