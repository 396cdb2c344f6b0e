package io.ferryvm.cluster.agent;

import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.core.Host;
import io.ferryvm.migration.CodecId;
import io.ferryvm.migration.Compression;
import io.ferryvm.migration.MigrationEvent;
import io.ferryvm.migration.MigrationException;
import io.ferryvm.migration.MigrationFailure;
import io.ferryvm.migration.MigrationOffer;
import io.ferryvm.migration.MigrationReport;
import io.ferryvm.migration.MigrationRequest;
import io.ferryvm.migration.MigrationService;
import io.ferryvm.migration.MigrationSource;
import io.ferryvm.migration.MigrationTarget;
import io.ferryvm.migration.MigrationTicket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host's side of cross-node migrations: runs the migration module's phases for the host agent, on
 * worker threads (they block on the data plane), and keeps the migrations in flight by id.
 *
 * <p>As the source it follows libvirt v3 (and {@link MigrationService#migrate}): begin here, prepare on
 * the target (through {@link TargetControl}), perform, finish on the target, confirm here. On any failure
 * before finish the target is aborted and the guest resumes here; if the target finished after all (an
 * abort that came too late), the source confirms instead: the guest runs in exactly one place.
 */
public final class MigrationAgent {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationAgent.class);

    /** The target host, as the source's control plane sees it (asks to the target's agent). */
    public interface TargetControl {
        MigrationTicket prepare(MigrationOffer offer);

        MigrationTarget.Finished finish(UUID migrationId);

        /** Aborts the target; returns its own failure (what it saw), or a Finished when it had finished already. */
        AbortOutcome abort(UUID migrationId, String reason);
    }

    /** What an abort on the target found. */
    public record AbortOutcome(boolean aborted, String targetFailure, MigrationTarget.Finished finishedInstead) {}

    private final Host host;
    private final io.ferryvm.migration.Transport transport;
    private final MigrationService service;
    private final Map<UUID, Consumer<MigrationEvent>> listeners = new ConcurrentHashMap<>();
    private final Map<UUID, MigrationSource> sources = new ConcurrentHashMap<>();
    private final Map<UUID, MigrationTarget> targets = new ConcurrentHashMap<>();
    /** Finishes of recent incoming migrations, for an abort that arrives after the finish reply was lost. */
    private final Map<UUID, java.util.concurrent.CompletableFuture<MigrationTarget.Finished>> finished =
            java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<UUID, java.util.concurrent.CompletableFuture<MigrationTarget.Finished>> e) {
                    return size() > 64;
                }
            });

    /** Prepares of recent incoming migrations, so that a resent PrepareIn is answered like the first. */
    private final Map<UUID, java.util.concurrent.CompletableFuture<MigrationTicket>> prepares =
            java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<UUID, java.util.concurrent.CompletableFuture<MigrationTicket>> e) {
                    return size() > 64;
                }
            });

    private java.util.concurrent.CompletableFuture<MigrationTarget.Finished> finishOf(UUID id) {
        return finished.computeIfAbsent(id, k -> new java.util.concurrent.CompletableFuture<>());
    }
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ferry-migration");
        t.setDaemon(true);
        return t;
    });

    public MigrationAgent(Host host, io.ferryvm.migration.Transport transport, io.ferryvm.migration.Failpoints failpoints) {
        this.host = host;
        this.transport = transport;
        this.service = new MigrationService(host, transport, failpoints, this::dispatch);
    }

    private void dispatch(MigrationEvent e) {
        Consumer<MigrationEvent> l = listeners.get(e.migrationId());
        if (l != null) {
            l.accept(e);
        }
    }

    public MigrationService service() {
        return service;
    }

    /** The data plane's transport (also for a hypervisor driver's tunnelled streams). */
    public io.ferryvm.migration.Transport transport() {
        return transport;
    }

    public ExecutorService workers() {
        return workers;
    }

    static MigrationRequest request(MigrationOptions o) {
        Compression c = switch (o.compression()) {
            case "none" -> Compression.NONE;
            case "xor+lz4" -> Compression.XOR_LZ4;
            default -> Compression.LZ4;
        };
        MigrationRequest r = MigrationRequest.defaults().withChannels(o.channels()).withCompression(c)
                .withBandwidth((long) (o.bandwidthMiBps() * (1 << 20))).withDowntimeLimit(Duration.ofMillis(o.downtimeLimitMs()))
                .withMaxIterations(o.maxIterations()).withAutoConverge(o.autoConverge())
                .withNonConvergence(o.postCopy() ? MigrationRequest.NonConvergence.POST_COPY : MigrationRequest.NonConvergence.FAIL)
                .withPreallocate(o.preallocate());
        if (o.timeoutSeconds() > 0) {
            r = r.withTimeout(Duration.ofSeconds(o.timeoutSeconds()));
        }
        if (o.maxIterations() == 1 && !o.autoConverge() && o.downtimeLimitMs() >= 600_000) {
            r = r.withStopAndCopy(true); // --no-live
        }
        return r;
    }

    // ---- source side ----

    /**
     * Begins a migration of vm (the guest keeps running) and runs the rest on a worker thread. Throws
     * (with the reason) when begin refuses; progress and the summary go to the consumers.
     */
    public void migrateOut(UUID migrationId, UUID vm, String targetHost, MigrationOptions options, TargetControl target,
            Consumer<MigrationProgress> progress, Consumer<MigrationSummary> ended) {
        // The transfer rate in guest memory sent per second (what convergence weighs against the dirty
        // rate), measured between two events: the migration module reports counts, not rates.
        long[] last = {System.nanoTime(), 0};
        double[] rate = {0};
        listeners.put(migrationId, e -> {
            long now = System.nanoTime();
            long guestBytes = e.pagesSent() * 4096L;
            if (now - last[0] >= 50_000_000L && guestBytes >= last[1]) {
                rate[0] = (guestBytes - last[1]) / ((now - last[0]) / 1e9) / (1 << 20);
                last[0] = now;
                last[1] = guestBytes;
            }
            progress.accept(new MigrationProgress(e.migrationId(), vm, host.name(), targetHost, e.phase().name(), e.iteration(),
                    e.wireBytes(), e.dirtyPages() * 4096L, e.dirtyRateMiBps(), rate[0], e.expectedDowntimeMillis(),
                    e.throttlePercent(), e.pagesSent(), options.downtimeLimitMs()));
        });
        MigrationSource src;
        try {
            src = service.begin(vm, request(options), migrationId);
        } catch (RuntimeException e) {
            listeners.remove(migrationId);
            throw e;
        }
        sources.put(migrationId, src);
        workers.execute(() -> {
            MigrationReport report;
            try {
                report = runSource(src, target);
            } catch (RuntimeException e) {
                LOG.error("migration {} failed unexpectedly", migrationId, e);
                report = src.abort(new MigrationFailure.HostError(host.name(), e.toString()));
            } finally {
                sources.remove(migrationId);
                listeners.remove(migrationId);
            }
            ended.accept(summary(report, vm, src.offer().spec().name(), host.name(), targetHost));
        });
    }

    private MigrationReport runSource(MigrationSource src, TargetControl target) {
        UUID id = src.offer().migrationId();
        MigrationTicket ticket;
        try {
            ticket = target.prepare(src.offer());
        } catch (RuntimeException e) {
            MigrationFailure why = e instanceof MigrationException me ? me.failure() : new MigrationFailure.Rejected("prepare", e.getMessage());
            // The target may have prepared after all (its reply lost): tell it, best effort; its connect
            // watchdog frees it anyway once the request's timeout passes without a channel.
            workers.execute(() -> target.abort(id, "the source gave up during prepare: " + why.describe()));
            return src.abort(why);
        }
        try {
            src.perform(ticket);
        } catch (MigrationException e) {
            AbortOutcome a = target.abort(id, e.failure().describe());
            MigrationFailure why = a.targetFailure() != null && !a.targetFailure().isBlank()
                    ? new MigrationFailure.HostError(ticket.targetHost(), a.targetFailure()) : e.failure();
            return src.abort(why);
        }
        MigrationTarget.Finished fin;
        try {
            fin = target.finish(id);
        } catch (RuntimeException e) {
            MigrationFailure why = e instanceof MigrationException me ? me.failure()
                    : new MigrationFailure.HostError(ticket.targetHost(), e.getMessage());
            AbortOutcome a = target.abort(id, why.describe());
            if (!a.aborted()) {
                // The target finished just as we gave up: the guest runs there, so it must never resume here.
                return src.confirm(a.finishedInstead() != null ? a.finishedInstead()
                        : new MigrationTarget.Finished(id, true, Duration.ZERO, Duration.ZERO, Duration.ZERO, 0));
            }
            return src.abort(why);
        }
        return src.confirm(fin);
    }

    /** Cancels a migration before finish; false when this host has no such migration running. */
    public boolean cancel(UUID migrationId, String reason) {
        MigrationSource src = sources.get(migrationId);
        if (src == null) {
            return false;
        }
        src.cancel(reason);
        return true;
    }

    // ---- target side ----

    /**
     * Prepares the target once per migration id: the source resends PrepareIn while no reply came (remote
     * messages are at most once), and a resent one gets the first one's ticket, or its refusal.
     */
    public MigrationTicket prepareIn(MigrationOffer offer) {
        forgetEndedTargets();
        UUID id = offer.migrationId();
        java.util.concurrent.CompletableFuture<MigrationTicket> mine = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<MigrationTicket> first = prepares.putIfAbsent(id, mine);
        if (first != null) {
            MigrationTicket ticket = awaitPrepare(first);
            MigrationTarget t = targets.get(id);
            if (t == null || t.failure() != null) {
                throw new MigrationException(new MigrationFailure.Rejected("prepare", "migration " + id + " already ended on "
                        + host.name() + (t == null || t.failure() == null ? "" : ": " + t.failure().describe())));
            }
            return ticket;
        }
        try {
            // The copy that arrives here is a new incarnation: if the source's definition survives a crash, this one wins.
            MigrationOffer here = new MigrationOffer(id, Epochs.next(offer.spec()), offer.request(),
                    offer.protocolVersion(), offer.sourceHost());
            MigrationTarget t = service.prepare(here);
            targets.put(id, t);
            mine.complete(t.ticket());
            return t.ticket();
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private static MigrationTicket awaitPrepare(java.util.concurrent.CompletableFuture<MigrationTicket> first) {
        try {
            return first.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new MigrationException(new MigrationFailure.Rejected("prepare", String.valueOf(e.getCause())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(new MigrationFailure.Cancelled("interrupted while a prepare ran"));
        }
    }

    public MigrationTarget.Finished finishIn(UUID migrationId) {
        MigrationTarget t = targets.get(migrationId);
        if (t == null) {
            throw new MigrationException(new MigrationFailure.Rejected("finish", "no incoming migration " + migrationId + " on " + host.name()));
        }
        java.util.concurrent.CompletableFuture<MigrationTarget.Finished> done = finishOf(migrationId);
        try {
            MigrationTarget.Finished f = t.finish();
            done.complete(f);
            return f;
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            throw e;
        } finally {
            targets.remove(migrationId);
        }
    }

    public AbortOutcome abortIn(UUID migrationId, String reason) {
        MigrationTarget t = targets.get(migrationId);
        if (t == null) {
            // Finished or failed already (or never prepared here): only a finish that succeeded keeps the guest here.
            java.util.concurrent.CompletableFuture<MigrationTarget.Finished> f = finished.get(migrationId);
            MigrationTarget.Finished done = f != null && f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
            return done != null ? new AbortOutcome(false, "", done) : new AbortOutcome(true, "", null);
        }
        boolean aborted = t.abort(new MigrationFailure.PeerLost("source", reason));
        String seen = t.failure() == null ? "" : t.failure().describe();
        if (aborted) {
            targets.remove(migrationId);
            return new AbortOutcome(true, seen, null);
        }
        // It finished (or is finishing): wait for how, the source must confirm rather than resume.
        try {
            return new AbortOutcome(false, seen, finishOf(migrationId).get(2, java.util.concurrent.TimeUnit.MINUTES));
        } catch (java.util.concurrent.ExecutionException e) {
            // The finish failed after all (its resume): the target cleaned up and runs nothing, the source resumes.
            return new AbortOutcome(true, seen, null);
        } catch (java.util.concurrent.TimeoutException e) {
            return new AbortOutcome(false, seen, null); // FINISHED is journaled: by the journal rule the guest is there
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new AbortOutcome(false, seen, null);
        }
    }

    /** Migrations in flight on this host, either way. */
    public int active() {
        forgetEndedTargets();
        return sources.size() + targets.size();
    }

    /**
     * An incoming migration can end by itself (its source vanished: the channels broke, no abort will come)
     * and must then leave the books too; it used to stay here for good, counted and holding its ledger.
     */
    private void forgetEndedTargets() {
        targets.values().removeIf(t -> t.phase() == io.ferryvm.migration.MigrationPhase.ABORTED
                || t.phase() == io.ferryvm.migration.MigrationPhase.GUEST_LOST);
    }

    public void close() {
        workers.shutdownNow();
    }

    static MigrationSummary summary(MigrationReport r, UUID vm, String vmName, String source, String target) {
        Map<String, Long> codecs = new LinkedHashMap<>();
        for (CodecId c : CodecId.values()) {
            codecs.put(c.name().toLowerCase(java.util.Locale.ROOT), r.pages(c));
        }
        long memoryMs = r.finalMemory().toMillis();
        long stateMs = r.state().toMillis();
        long activationMs = r.activation().toMillis();
        return new MigrationSummary(r.migrationId(), vm, vmName, source, target, r.succeeded(),
                r.failure() == null ? "" : r.outcome() + ": " + r.failure().describe(), r.total().toMillis(), r.setup().toMillis(),
                r.downtime().toMillis(), memoryMs, stateMs, activationMs, r.iterations(), r.wireBytes(), r.memoryBytes(), codecs,
                r.xorHitRate(), r.meanThroughput() / 1e6, r.peakThroughput() / 1e6, r.throttleReached(), r.postCopy().toMillis());
    }
}
