package io.ferryvm.cim;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration jobs CIM shows (Ferry_MigrationJob, a CIM_ConcreteJob): every migration the cluster
 * reports, plus the steps DSP1081's migration types add around it, which this class drives:
 *
 * <pre>
 *   Live (2):    migrate                          job id = the cluster's migration id
 *   Resume (3):  pause -> migrate -> resume there   (a failed migration resumes the guest where it was)
 *   Restart (4): stop -> move the definition -> start there   (works for stopped VMs too)
 * </pre>
 *
 * JobState goes 3 Starting -> 4 Running -> 7 Completed, or 10 Exception (8 Terminated when a client
 * cancelled it); PercentComplete never goes down. Ended jobs stay visible for TimeBeforeRemoval (5
 * minutes) or until deleted. Each change is reported to the listener (indications).
 *
 * <p>Implementation notes: the pre- and post-steps run on one executor, so a step never blocks the
 * thread that delivered a backend event; each tracked job is guarded by its own monitor.
 */
final class MigrationJobs {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationJobs.class);
    static final Duration KEEP = Duration.ofMinutes(5);
    static final int LIVE = 2;
    static final int RESUME = 3;
    static final int RESTART = 4;

    /** A job as Ferry_MigrationJob shows it. */
    record Job(UUID id, String vm, String source, String target, int migrationType, int jobState, String status, int percent,
            String error, Instant started, Instant changed, Instant endedAt, String phase, long transferred, long remaining,
            long downtimeMs, boolean terminated) {
        boolean isEnded() {
            return jobState == 7 || jobState == 8 || jobState == 10;
        }
    }

    private final CimBackend backend;
    private final Clock clock;
    private final ExecutorService steps;
    private final Map<UUID, Tracked> tracked = new ConcurrentHashMap<>();
    private final Map<UUID, Instant> firstSeen = new ConcurrentHashMap<>();
    private final Map<UUID, Instant> endSeen = new ConcurrentHashMap<>();
    private final Set<UUID> deleted = ConcurrentHashMap.newKeySet();
    private volatile Consumer<Change> listener = c -> { };

    /** A job as it is right after a change; job null: it was deleted. */
    record Change(UUID id, Job job) {}

    MigrationJobs(CimBackend backend, Clock clock, ExecutorService steps) {
        this.backend = backend;
        this.clock = clock;
        this.steps = steps;
    }

    void onChange(Consumer<Change> l) {
        this.listener = l;
    }

    /** A job started through CIM; its fields change under its own monitor. */
    private final class Tracked {
        final UUID id;
        final int type;
        final String vm;
        final String source;
        final String target;
        final boolean resumeAfter;
        UUID migration;
        int state = 3;
        String status = "Queued";
        String phase = "";
        String error = "";
        int percent;
        long transferred;
        long remaining;
        long downtime;
        boolean terminated;
        boolean postStep;
        final Instant started;
        Instant changed;
        Instant ended;

        Tracked(UUID id, int type, String vm, String source, String target, boolean resumeAfter) {
            this.id = id;
            this.type = type;
            this.vm = vm;
            this.source = source;
            this.target = target;
            this.resumeAfter = resumeAfter;
            this.started = clock.instant();
            this.changed = started;
        }

        synchronized Job view() {
            return new Job(id, vm, source, target, type, state, status, percent, error, started, changed, ended, phase, transferred,
                    remaining, downtime, terminated);
        }

        synchronized void set(int newState, String newStatus, String newPhase) {
            if (newState != state || !newStatus.equals(status)) {
                changed = clock.instant();
            }
            state = newState;
            status = newStatus;
            phase = newPhase;
            if (newState == 7) {
                percent = 100;
            }
            if ((newState == 7 || newState == 8 || newState == 10) && ended == null) {
                ended = clock.instant();
            }
        }

        synchronized void fail(String why) {
            error = why == null ? "" : why;
            set(terminated ? 8 : 10, terminated ? "Terminated" : "Exception", phase);
        }
    }

    // ---- starting ----

    /** Starts a migration of vm to target; refusals (the backend's CimExceptions) propagate before any job exists. */
    Job start(CimBackend.Vm vm, String target, int type, CimBackend.MigrationTuning tuning) {
        Tracked t;
        switch (type) {
            case LIVE: {
                UUID id = backend.migrate(vm.name(), target, tuning);
                t = new Tracked(id, LIVE, vm.name(), vm.host(), target, false);
                t.migration = id;
                break;
            }
            case RESUME: {
                boolean running = vm.status() == io.ferryvm.core.VmStatus.RUNNING;
                if (running) {
                    backend.changeState(vm.name(), CimBackend.StateChange.PAUSE);
                }
                UUID id;
                try {
                    id = backend.migrate(vm.name(), target, tuning);
                } catch (RuntimeException e) {
                    if (running) {
                        backend.changeState(vm.name(), CimBackend.StateChange.RESUME);
                    }
                    throw e;
                }
                t = new Tracked(id, RESUME, vm.name(), vm.host(), target, running);
                t.migration = id;
                break;
            }
            case RESTART: {
                t = new Tracked(UUID.randomUUID(), RESTART, vm.name(), vm.host(), target, false);
                Tracked job = t;
                tracked.put(t.id, t);
                steps.execute(() -> restart(job));
                announce(t);
                return t.view();
            }
            default:
                throw new CimException(CimStatus.INVALID_PARAMETER, "MigrationType " + type + " is not 2 (Live), 3 (Resume) or 4 (Restart)");
        }
        tracked.put(t.id, t);
        announce(t);
        return t.view();
    }

    private void announce(Tracked t) {
        listener.accept(new Change(t.id, t.view()));
    }

    private void restart(Tracked t) {
        try {
            t.set(4, "Running", "stopping");
            announce(t);
            CimBackend.Vm vm = backend.vm(t.vm).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND, "VM " + t.vm + " is gone"));
            boolean active = vm.status().isActive();
            if (active) {
                backend.changeState(t.vm, CimBackend.StateChange.STOP);
            }
            synchronized (t) {
                t.percent = 33;
            }
            t.set(4, "Running", "relocating");
            announce(t);
            backend.relocate(t.vm, t.target);
            synchronized (t) {
                t.percent = 66;
            }
            if (active) {
                t.set(4, "Running", "starting");
                announce(t);
                backend.changeState(t.vm, CimBackend.StateChange.START);
            }
            t.set(7, "Completed", "done");
        } catch (RuntimeException e) {
            LOG.warn("restart migration {} of {} to {} failed: {}", t.id, t.vm, t.target, e.getMessage());
            t.fail(e.getMessage());
        }
        announce(t);
    }

    // ---- following the cluster ----

    /** A migration update from the backend's event stream. */
    void onMigration(CimBackend.Migration m) {
        Tracked t = tracked.get(m.id());
        if (t != null) {
            absorb(t, m);
            announce(t);
        } else if (!deleted.contains(m.id())) {
            if (firstSeen.size() > 4096) {
                firstSeen.clear(); // nobody listed jobs for thousands of migrations: forget when they were first seen
                endSeen.clear();
            }
            listener.accept(new Change(m.id(), untracked(m, clock.instant())));
        }
    }

    private void absorb(Tracked t, CimBackend.Migration m) {
        boolean post = false;
        synchronized (t) {
            t.transferred = m.transferredBytes();
            t.remaining = m.remainingBytes();
            t.downtime = m.downtimeMs();
            if (t.state == 7 || t.state == 8 || t.state == 10 || t.postStep) {
                return;
            }
            switch (m.phase()) {
                case QUEUED -> t.set(3, "Queued", m.detail());
                case RUNNING -> {
                    t.percent = Math.max(t.percent, Math.min(99, m.percentComplete()));
                    t.set(4, "Running", m.detail());
                }
                case COMPLETED -> {
                    if (t.resumeAfter) {
                        t.postStep = true;
                        t.percent = Math.max(t.percent, 99);
                        t.set(4, "Running", "resuming");
                        post = true;
                    } else {
                        t.set(7, "Completed", "done");
                    }
                }
                case FAILED -> {
                    if (t.resumeAfter) {
                        t.postStep = true;
                        t.error = m.detail();
                        post = true;
                    } else {
                        t.fail(m.detail());
                    }
                }
            }
        }
        if (post) {
            boolean success = m.phase() == CimBackend.Migration.Phase.COMPLETED;
            steps.execute(() -> resume(t, success));
        }
    }

    /** Resume's last step: the guest runs again, on the target after a success, at the source otherwise. */
    private void resume(Tracked t, boolean success) {
        try {
            backend.vm(t.vm).filter(v -> v.status() == io.ferryvm.core.VmStatus.PAUSED)
                    .ifPresent(v -> backend.changeState(t.vm, CimBackend.StateChange.RESUME));
            if (success) {
                t.set(7, "Completed", "done");
            } else {
                String why;
                synchronized (t) {
                    why = t.error;
                }
                t.fail(why);
            }
        } catch (RuntimeException e) {
            t.fail((success ? "migrated, but resuming failed: " : "") + e.getMessage());
        }
        announce(t);
    }

    // ---- reading ----

    /** Every visible job, refreshed from ctx's view of the cluster's migrations. */
    List<Job> list(CallContext ctx) {
        Map<UUID, CimBackend.Migration> byId = new HashMap<>();
        for (CimBackend.Migration m : ctx.migrations()) {
            byId.put(m.id(), m);
        }
        Instant now = clock.instant();
        List<Job> out = new ArrayList<>();
        for (Tracked t : List.copyOf(tracked.values())) {
            CimBackend.Migration m = t.migration == null ? null : byId.get(t.migration);
            if (m != null) {
                absorb(t, m);
            }
            Job j = t.view();
            if (j.isEnded() && j.endedAt() != null && Duration.between(j.endedAt(), now).compareTo(KEEP) > 0) {
                tracked.remove(t.id);
                continue;
            }
            out.add(j);
        }
        for (CimBackend.Migration m : byId.values()) {
            if (tracked.containsKey(m.id()) || deleted.contains(m.id())) {
                continue;
            }
            Job j = untracked(m, now);
            if (j.isEnded() && Duration.between(j.endedAt(), now).compareTo(KEEP) > 0) {
                continue;
            }
            out.add(j);
        }
        firstSeen.keySet().removeIf(id -> !byId.containsKey(id) && !tracked.containsKey(id));
        endSeen.keySet().removeIf(id -> !byId.containsKey(id));
        deleted.removeIf(id -> !byId.containsKey(id));
        return out;
    }

    Optional<Job> get(CallContext ctx, UUID id) {
        return list(ctx).stream().filter(j -> j.id().equals(id)).findFirst();
    }

    private Job untracked(CimBackend.Migration m, Instant now) {
        Instant first = firstSeen.computeIfAbsent(m.id(), k -> now);
        int state;
        String status;
        switch (m.phase()) {
            case QUEUED -> {
                state = 3;
                status = "Queued";
            }
            case RUNNING -> {
                state = 4;
                status = "Running";
            }
            case COMPLETED -> {
                state = 7;
                status = "Completed";
            }
            default -> {
                state = 10;
                status = "Exception";
            }
        }
        Instant end = state == 7 || state == 10 ? endSeen.computeIfAbsent(m.id(), k -> now) : null;
        return new Job(m.id(), m.vm(), m.source(), m.target(), LIVE, state, status, state == 7 ? 100 : Math.min(99, m.percentComplete()),
                state == 10 ? m.detail() : "", first, end != null ? end : first, end, m.detail(), m.transferredBytes(),
                m.remainingBytes(), m.downtimeMs(), false);
    }

    // ---- control ----

    /** RequestStateChange(4 Terminate / 5 Kill): cancels the cluster migration; returns false when nothing can be cancelled. */
    boolean terminate(CallContext ctx, UUID id) {
        Job j = get(ctx, id).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND, "No such instance: no migration job " + id));
        if (j.isEnded() || j.migrationType() == RESTART) {
            return false;
        }
        Tracked t = tracked.get(id);
        if (t != null) {
            synchronized (t) {
                t.terminated = true;
            }
        }
        backend.cancelMigration(id);
        return true;
    }

    /** DeleteInstance of an ended job: it is no longer shown. */
    void delete(CallContext ctx, UUID id) {
        Job j = get(ctx, id).orElseThrow(() -> new CimException(CimStatus.NOT_FOUND, "No such instance: no migration job " + id));
        if (!j.isEnded()) {
            throw new CimException(CimStatus.FAILED, "migration job " + id + " is still running: terminate it first");
        }
        tracked.remove(id);
        deleted.add(id);
        listener.accept(new Change(id, null));
    }
}
