package io.ferryvm.cluster.agent;

import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.migration.HypervisorMigration;
import io.ferryvm.migration.Transport;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live migration of a driver node's guests (QEMU's) between two nodes of the same driver: the driver's own
 * mechanism ({@link HypervisorMigration}) under the cluster's phases. The source begins and performs here
 * and reaches the target's agent through a {@link Remote}; the target prepares an incoming guest placed
 * by its own placer, and the definition moves with the guest: the target persists it (a new incarnation)
 * before it resumes the guest, the source undefines its copy once the guest runs there.
 *
 * <p>Exactly one side runs the guest: the target resumes only in finish, after the source's hypervisor
 * completed; a source that lost its answer to finish asks abort, and a target that finished answers so
 * (the source then confirms rather than resumes). A prepared target that no finish reaches within the
 * migration's timeout (its source vanished) destroys its guest and frees its placement by itself.
 */
final class DriverMigrations {
    private static final Logger LOG = LoggerFactory.getLogger(DriverMigrations.class);
    /** How often the source reports progress while the hypervisor migrates. */
    private static final Duration PROGRESS_EVERY = Duration.ofMillis(500);
    /** What the target waits beyond the migration's timeout for finish before it gives up. */
    private static final Duration WATCHDOG_MARGIN = Duration.ofMinutes(1);

    /** The target's agent as the source reaches it; every call blocks until it answered or timed out. */
    interface Remote {
        HypervisorMigration.Offer prepare(UUID migrationId, VmSpec spec, HypervisorMigration.Options options);

        void postcopyStarted(UUID migrationId);

        /** The target's resume time (microseconds since the epoch, -1 if not resumed); throws when it did not finish. */
        long finish(UUID migrationId, boolean resume);

        /** Aborts the target: the outcome says whether it did, or had finished (and its resume time). */
        AbortOutcome abort(UUID migrationId);
    }

    /** aborted false: the target had finished already and runs the guest (resumedAt its resume time, -1 if unknown). */
    record AbortOutcome(boolean aborted, long resumedAt) {}

    /** An incoming migration on this (target) node. */
    private record Incoming(VmSpec spec, Binding binding, HypervisorMigration.Target target, CompletableFuture<Long> finished,
            ScheduledFuture<?> watchdog) {}

    private final DriverGuests guests;
    private final HypervisorMigration hypervisor;
    private final Transport transport;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ferry-driver-migration-timer");
        t.setDaemon(true);
        return t;
    });
    private final Map<UUID, HypervisorMigration.Outgoing> outgoing = new ConcurrentHashMap<>();
    private final Map<UUID, CompletableFuture<Incoming>> incoming = new ConcurrentHashMap<>();
    /** Ends of recent incoming migrations (true: finished, the guest runs here), for late or repeated asks. */
    private final Map<UUID, Boolean> ended = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<UUID, Boolean> e) {
            return size() > 256;
        }
    });

    DriverMigrations(DriverGuests guests, Transport transport, ExecutorService workers) {
        this.guests = guests;
        this.hypervisor = guests.driver() instanceof HypervisorMigration h ? h : null;
        this.transport = transport;
        this.workers = workers;
    }

    /**
     * The cluster's options as the driver's: TUNNELLED through Ferry's channel (LZ4 unless compression is
     * "none"; one stream, so channels do not apply) unless DIRECT is asked for (then channels > 1 are
     * QEMU's multifd); bandwidth, downtime limit, auto-converge, post-copy, the timeout and preallocation as given.
     */
    static HypervisorMigration.Options options(MigrationOptions o) {
        boolean direct = "direct".equals(o.hypervisorMode());
        return new HypervisorMigration.Options(direct ? HypervisorMigration.Options.Mode.DIRECT : HypervisorMigration.Options.Mode.TUNNELLED,
                !direct && !"none".equals(o.compression()), Duration.ofMillis(o.downtimeLimitMs()),
                (long) (o.bandwidthMiBps() * (1 << 20)), direct && o.channels() > 1 ? o.channels() : 0, o.autoConverge(), o.postCopy(), 0,
                o.timeoutSeconds() > 0 ? Duration.ofSeconds(o.timeoutSeconds()) : null, o.preallocate());
    }

    private String unsupported() {
        return guests.host().name() + ": the " + guests.driverName() + " driver cannot live-migrate its guests";
    }

    // ---- source ----

    /**
     * Begins a migration of vm (refused with the reason when it cannot start: not running here, options the
     * driver cannot do) and runs the rest on a worker; progress and the summary go to the consumers.
     */
    void migrateOut(UUID migrationId, UUID vm, String targetHost, MigrationOptions o, Remote remote,
            Consumer<MigrationProgress> progress, Consumer<MigrationSummary> ended) {
        if (hypervisor == null) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, unsupported());
        }
        VmSpec spec = guests.host().vm(vm).spec();
        VmStatus now = guests.info(vm).status();
        if (now != VmStatus.RUNNING && now != VmStatus.PAUSED) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "VM " + spec.name() + " is "
                    + now.name().toLowerCase(java.util.Locale.ROOT) + ": only a running or paused VM can be live-migrated");
        }
        HypervisorMigration.Options options = options(o);
        HypervisorMigration.Outgoing out = hypervisor.begin(vm, options, transport);
        outgoing.put(migrationId, out);
        String source = guests.host().name();
        workers.execute(() -> {
            long started = System.nanoTime();
            ScheduledFuture<?> ticker = timer.scheduleWithFixedDelay(() -> {
                try {
                    HypervisorMigration.Progress p = out.progress();
                    progress.accept(new MigrationProgress(migrationId, vm, source, targetHost, "PERFORM", (int) p.passes(),
                            p.transferred(), p.remaining(), 0, p.mbps() * 1e6 / 8 / (1 << 20), 0, 0, p.transferred() / 4096,
                            o.downtimeLimitMs()));
                } catch (RuntimeException e) {
                    LOG.debug("progress of migration {}: {}", migrationId, e.getMessage()); // between QMP's end and ours
                }
            }, PROGRESS_EVERY.toMillis(), PROGRESS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            HypervisorMigration.Report report;
            try {
                report = runSource(migrationId, spec, options, out, remote);
            } catch (RuntimeException e) {
                LOG.error("migration {} of {} failed unexpectedly", migrationId, spec.name(), e);
                report = new HypervisorMigration.Report("?", "failed", Duration.ofNanos(System.nanoTime() - started), -1, -1, 0, 0, 0,
                        e.toString(), "");
            } finally {
                ticker.cancel(false);
                outgoing.remove(migrationId);
            }
            if (report.succeeded()) {
                try {
                    guests.left(vm);
                } catch (CoreException e) {
                    LOG.error("VM {} runs on {} now, but its definition here could not be removed: {}", spec.name(), targetHost, e.getMessage());
                }
            }
            LOG.info("{} vm={} {}->{}", report.line(), spec.name(), source, targetHost);
            ended.accept(summary(migrationId, vm, spec.name(), source, targetHost, report));
        });
    }

    private HypervisorMigration.Report runSource(UUID id, VmSpec spec, HypervisorMigration.Options options,
            HypervisorMigration.Outgoing out, Remote remote) {
        long started = System.nanoTime();
        HypervisorMigration.Offer offer;
        try {
            offer = remote.prepare(id, spec, options);
        } catch (RuntimeException e) {
            // Its reply may have been lost after it prepared: tell it (best effort); its watchdog frees it anyway.
            workers.execute(() -> remote.abort(id));
            return new HypervisorMigration.Report(options.mode().name().toLowerCase(java.util.Locale.ROOT), "failed",
                    Duration.ofNanos(System.nanoTime() - started), -1, -1, 0, 0, 0, "prepare on the target: " + e.getMessage(), "");
        }
        return out.perform(new RemoteTarget(id, offer, remote));
    }

    /** The target half the driver's migration drives, carried to the target's agent. */
    private static final class RemoteTarget implements HypervisorMigration.Target {
        private final UUID id;
        private final HypervisorMigration.Offer offer;
        private final Remote remote;
        private volatile boolean finishedThere;

        RemoteTarget(UUID id, HypervisorMigration.Offer offer, Remote remote) {
            this.id = id;
            this.offer = offer;
            this.remote = remote;
        }

        @Override
        public HypervisorMigration.Offer offer() {
            return offer;
        }

        @Override
        public void postcopyStarted() {
            remote.postcopyStarted(id);
        }

        @Override
        public long finish(boolean resume) {
            try {
                long at = remote.finish(id, resume);
                finishedThere = true;
                return at;
            } catch (RuntimeException e) {
                // No answer is not a refusal: the target may have resumed the guest. Only its abort says.
                AbortOutcome a = remote.abort(id);
                if (!a.aborted()) {
                    finishedThere = true;
                    return a.resumedAt();
                }
                throw e;
            }
        }

        @Override
        public void abort() {
            if (!finishedThere) {
                remote.abort(id);
            }
        }
    }

    boolean cancel(UUID migrationId) {
        HypervisorMigration.Outgoing out = outgoing.get(migrationId);
        if (out == null) {
            return false;
        }
        out.cancel();
        return true;
    }

    static MigrationSummary summary(UUID id, UUID vm, String name, String source, String target, HypervisorMigration.Report r) {
        long totalMs = r.total().toMillis();
        double meanMBps = totalMs > 0 ? r.memoryBytes() / 1e3 / totalMs : 0; // guest memory moved per second, as for built-in guests
        return new MigrationSummary(id, vm, name, source, target, r.succeeded(),
                r.succeeded() ? "" : r.outcome() + ": " + r.failure(), totalMs, 0, Math.max(r.downtimeMs(), r.hypervisorDowntimeMs()),
                0, 0, 0, (int) r.passes(), r.wireBytes(), r.memoryBytes(), Map.of(), 0, meanMBps, meanMBps, 0, 0);
    }

    // ---- target ----

    /**
     * Prepares the incoming guest once per migration id (the source resends while no answer came): placed
     * by this node's placer, started paused by the driver, listening. Returns where the stream goes.
     */
    HypervisorMigration.Offer prepareIn(UUID id, VmSpec offered, HypervisorMigration.Options options) {
        if (hypervisor == null) {
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, unsupported());
        }
        CompletableFuture<Incoming> mine = new CompletableFuture<>();
        CompletableFuture<Incoming> first = incoming.putIfAbsent(id, mine);
        if (first != null) {
            return first.join().target().offer();
        }
        if (ended.containsKey(id)) {
            incoming.remove(id, mine);
            throw new CoreException(CoreException.Kind.ILLEGAL_TRANSITION, "migration " + id + " already ended on " + guests.host().name());
        }
        try {
            VmSpec spec = Epochs.next(offered); // the copy that arrives here is a new incarnation
            if (guests.host().has(spec.id())) {
                throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "VM " + spec.name() + " is already defined on " + guests.host().name());
            }
            if (guests.host().list().stream().anyMatch(i -> i.name().equals(spec.name()))) {
                throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "a VM named " + spec.name() + " already exists on " + guests.host().name());
            }
            Binding b = guests.place(spec);
            HypervisorMigration.Target t;
            try {
                t = hypervisor.prepareIncoming(spec, guests.applicable(b), options, transport);
            } catch (RuntimeException e) {
                guests.release(spec.id());
                throw e;
            }
            ScheduledFuture<?> watchdog = timer.schedule(() -> expire(id), options.timeout().plus(WATCHDOG_MARGIN).toMillis(),
                    TimeUnit.MILLISECONDS);
            Incoming in = new Incoming(spec, b, t, new CompletableFuture<>(), watchdog);
            mine.complete(in);
            return t.offer();
        } catch (RuntimeException e) {
            incoming.remove(id, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    void postcopyIn(UUID id) {
        incomingOf(id).target().postcopyStarted();
    }

    /**
     * Finish: persists the definition (the new incarnation), then lets the driver finish (the guest's whole
     * stream arrived) and resume it. On failure nothing of the guest stays here.
     */
    long finishIn(UUID id, boolean resume) {
        Incoming in = incomingOf(id);
        synchronized (in) {
            if (in.finished().isDone()) {
                return in.finished().join();
            }
            in.watchdog().cancel(false);
            try {
                guests.host().define(in.spec());
                long at;
                try {
                    at = in.target().finish(resume);
                } catch (RuntimeException e) {
                    guests.host().undefine(in.spec().id());
                    throw e;
                }
                guests.arrived(in.spec(), in.binding(), resume ? VmStatus.RUNNING : VmStatus.PAUSED);
                ended.put(id, true);
                in.finished().complete(at);
                return at;
            } catch (RuntimeException e) {
                in.target().abort();
                guests.release(in.spec().id());
                ended.put(id, false);
                in.finished().completeExceptionally(e);
                throw e;
            } finally {
                incoming.remove(id);
            }
        }
    }

    /** Abort: destroys the incoming guest unless it finished (then says so: the guest runs here). */
    AbortOutcome abortIn(UUID id) {
        CompletableFuture<Incoming> f = incoming.get(id);
        if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
            Boolean done = ended.get(id);
            if (f != null && !f.isDone()) {
                f.thenAccept(in -> abortIn(id)); // a prepare still running: abort once it is ready
            }
            ended.putIfAbsent(id, false);
            return new AbortOutcome(done == null || !done, -1);
        }
        Incoming in = f.join();
        synchronized (in) {
            if (in.finished().isDone()) {
                try {
                    return new AbortOutcome(false, in.finished().join());
                } catch (RuntimeException failed) {
                    return new AbortOutcome(true, -1);
                }
            }
            in.watchdog().cancel(false);
            in.target().abort();
            guests.release(in.spec().id());
            incoming.remove(id);
            ended.put(id, false);
            in.finished().completeExceptionally(new IllegalStateException("aborted"));
            return new AbortOutcome(true, -1);
        }
    }

    private void expire(UUID id) {
        workers.execute(() -> {
            CompletableFuture<Incoming> f = incoming.get(id);
            if (f != null && f.isDone() && !f.isCompletedExceptionally() && !f.join().finished().isDone()) {
                LOG.warn("incoming migration {} of {}: no finish within its timeout, the source is gone: discarding it", id,
                        f.join().spec().name());
                abortIn(id);
            }
        });
    }

    private Incoming incomingOf(UUID id) {
        CompletableFuture<Incoming> f = incoming.get(id);
        if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
            throw new CoreException(CoreException.Kind.NOT_FOUND, "no incoming migration " + id + " on " + guests.host().name());
        }
        return f.join();
    }

}
