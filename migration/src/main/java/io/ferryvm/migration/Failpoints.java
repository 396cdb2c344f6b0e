package io.ferryvm.migration;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * Named points in the migration where tests and chaos runs inject a fault. Each point can be armed with
 * an action: ERROR (the side fails the migration as on any error), CRASH (the side stops dead, as if its
 * process were killed: channels cut, no ABORT sent, no cleanup, its journal left as it was) or HANG (the
 * side blocks there until the migration is cancelled or aborted). A point that repeats per iteration is
 * also armed by its numbered name ({@code source.precopy.iteration.3}).
 *
 * <p>From the environment: {@code FERRY_FAILPOINTS="target.finish=hang,source.precopy.iteration.2=error"}.
 * With {@code FERRY_FAILPOINTS_CRASH=halt} a CRASH is real: the whole process halts at the point (no
 * shutdown hooks, no flush, exit status 137), as under {@code kill -9}; chaos runs use it to crash a
 * node process at an exact phase of a migration.
 */
public final class Failpoints {
    public enum Action { ERROR, CRASH, HANG }

    public static final String ENV = "FERRY_FAILPOINTS";
    public static final String CRASH_ENV = "FERRY_FAILPOINTS_CRASH";
    /** The exit status of a process halted by a CRASH (as after SIGKILL). */
    public static final int HALT_STATUS = 137;

    /** Every point, in protocol order. */
    public static final List<String> POINTS = List.of(
            "source.begin", "target.prepare", "source.connect", "target.hello", "source.precopy.iteration",
            "target.sync", "source.switchover", "source.state", "target.ready", "source.postcopy", "target.postcopy.running",
            "source.postcopy.stream", "target.finish", "target.activate", "source.confirm");

    private final Map<String, Action> armed = new ConcurrentHashMap<>();
    private final Set<String> fired = ConcurrentHashMap.newKeySet();
    /** What a CRASH does besides failing the side: nothing (simulated), or end the process. */
    private volatile Runnable processCrash;

    public static Failpoints none() {
        return new Failpoints();
    }

    public static Failpoints fromEnvironment() {
        Failpoints f = parse(System.getenv(ENV));
        String crash = System.getenv(CRASH_ENV);
        if ("halt".equalsIgnoreCase(crash == null ? "" : crash.trim())) {
            f.crashingProcessWith(() -> Runtime.getRuntime().halt(HALT_STATUS));
        } else if (crash != null && !crash.isBlank()) {
            throw new IllegalArgumentException(CRASH_ENV + ": '" + crash + "' is not 'halt'");
        }
        return f;
    }

    /**
     * Makes CRASH real: when a point armed with CRASH fires, halt runs first (it normally never returns).
     * The seam exists so that tests can see the call without ending their own process.
     */
    public Failpoints crashingProcessWith(Runnable halt) {
        this.processCrash = halt;
        return this;
    }

    /**
     * Replaces everything armed with the points of a spec ("point=action,..."; blank disarms all) and
     * forgets what fired before, so {@link #fired()} then tells what fired under this arming.
     */
    public Failpoints rearm(String spec) {
        Failpoints parsed = parse(spec); // all or nothing: a bad spec changes nothing
        armed.clear();
        armed.putAll(parsed.armed);
        fired.clear();
        return this;
    }

    /** The armed points and their actions, by the name they were armed with. */
    public Map<String, Action> armed() {
        return Map.copyOf(armed);
    }

    /** Parses "point=action,point=action"; null or blank arms nothing. */
    public static Failpoints parse(String spec) {
        Failpoints f = new Failpoints();
        if (spec == null || spec.isBlank()) {
            return f;
        }
        for (String item : spec.split(",")) {
            String[] kv = item.trim().split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException(ENV + ": '" + item + "' is not point=action");
            }
            f.arm(kv[0].trim(), Action.valueOf(kv[1].trim().toUpperCase(Locale.ROOT)));
        }
        return f;
    }

    public Failpoints arm(String point, Action action) {
        String base = point.replaceFirst("\\.\\d+$", "");
        if (!POINTS.contains(base)) {
            throw new IllegalArgumentException("no failpoint " + point + " (known: " + POINTS + ")");
        }
        armed.put(point, action);
        return this;
    }

    public void disarm(String point) {
        armed.remove(point);
    }

    /** Points that fired so far (since the last {@link #rearm}), by the name they were armed with. */
    public Set<String> fired() {
        return Set.copyOf(fired);
    }

    void hit(String point, CountDownLatch aborted) {
        hit(point, -1, aborted);
    }

    /** Fires the point (or its numbered form) if armed; HANG returns only by throwing once aborted counts down. */
    void hit(String point, int n, CountDownLatch aborted) {
        if (armed.isEmpty()) {
            return;
        }
        String name = point;
        Action a = n >= 0 ? armed.get(point + "." + n) : null;
        if (a != null) {
            name = point + "." + n;
        } else {
            a = armed.get(point);
        }
        if (a == null) {
            return;
        }
        fired.add(name);
        Runnable halt = processCrash;
        if (a == Action.CRASH && halt != null) {
            System.err.println("failpoint " + name + ": crash, halting the process");
            System.err.flush();
            halt.run();
        }
        if (a == Action.HANG) {
            try {
                aborted.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new MigrationException(new MigrationFailure.Cancelled("aborted while hanging at failpoint " + name));
        }
        throw new MigrationException(new MigrationFailure.Injected(name, a));
    }

    static boolean isCrash(MigrationFailure f) {
        return f instanceof MigrationFailure.Injected && ((MigrationFailure.Injected) f).action() == Action.CRASH;
    }
}
