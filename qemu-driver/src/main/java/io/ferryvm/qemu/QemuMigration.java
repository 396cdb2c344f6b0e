package io.ferryvm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.migration.HypervisorMigration;
import io.ferryvm.migration.TcpTransport;
import io.ferryvm.migration.Transport;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One live migration of a QEMU guest to another Ferry host's QEMU driver, in libvirt's v3 phases:
 * {@link #begin} (source checks) -> {@link #prepare} (target QEMU waits with {@code -incoming defer},
 * paused) -> {@link #perform} (QEMU migrates, directly or through Ferry's tunnel; then finish: the target
 * resumes only after both QEMUs said completed; then confirm: the source QEMU quits).
 *
 * <p>The target half is a {@link HypervisorMigration.Target}: {@link #prepare} makes one on a driver of this
 * process ({@link QemuIncoming}); {@link #attach} takes one that lives on another host (another process),
 * prepared there with {@link QemuIncoming#prepare} and reached through that host's control channel. The
 * source talks to its QEMU over QMP and to the target only through that interface.
 *
 * <p>Exactly one side runs: the target starts paused ({@code -S}) and is resumed by Ferry only after the
 * source reported {@code completed}; on failure, cancel or timeout before that, the target is destroyed
 * and the source is resumed if QEMU left it paused. Post-copy is the documented exception: once it starts,
 * the target runs and losing either side loses the guest (as in QEMU).
 */
public final class QemuMigration {
    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

    private final QemuGuest source;
    private final QemuMigrationOptions options;
    private final Transport transport;
    private final boolean sourceWasRunning;
    private HypervisorMigration.Target target;
    private QemuGuest localTarget;
    private Tunnel.Sender sender;
    private volatile boolean cancelled;
    private volatile boolean postcopyStarted;
    /** The report of a perform that failed (its exception carries only the line). */
    private volatile QemuMigrationReport failedReport;

    private QemuMigration(QemuGuest source, QemuMigrationOptions options, Transport transport) {
        this.source = source;
        this.options = options;
        this.transport = transport;
        this.sourceWasRunning = source.status() == VmStatus.RUNNING;
    }

    /** Source checks: the guest is running or paused here and not already migrating. */
    public static QemuMigration begin(QemuGuest source, QemuMigrationOptions options) {
        return begin(source, options, new TcpTransport());
    }

    /** As {@link #begin(QemuGuest, QemuMigrationOptions)}, with the transport the tunnel's channel uses. */
    public static QemuMigration begin(QemuGuest source, QemuMigrationOptions options, Transport transport) {
        VmStatus s = source.status();
        if (s != VmStatus.RUNNING && s != VmStatus.PAUSED) {
            throw new QemuException(QemuException.Kind.MIGRATION, source.name() + ": cannot migrate a guest that is " + s);
        }
        return new QemuMigration(source, options, transport);
    }

    /** Runs every phase; on failure the source keeps running and the exception says why. */
    public static QemuMigrationReport run(QemuGuest source, QemuDriver target, Binding binding, QemuMigrationOptions options) {
        QemuMigration m = begin(source, options);
        m.prepare(target, binding);
        return m.perform();
    }

    /** Target side on this process: starts the incoming QEMU (paused, pinned) and its listener (QEMU's, or Ferry's tunnel). */
    public QemuGuest prepare(QemuDriver targetDriver, Binding binding) {
        QemuIncoming in = QemuIncoming.prepare(targetDriver, source.spec(), binding, options, transport);
        attach(in);
        localTarget = in.guest();
        return localTarget;
    }

    /**
     * Target side on another host: the target half was prepared there (with this migration's spec and
     * options); perform sends to its offer and drives it through the interface.
     */
    public void attach(HypervisorMigration.Target remote) {
        if (target != null) {
            throw new IllegalStateException(source.name() + ": the migration already has a target");
        }
        HypervisorMigration.Offer o = remote.offer();
        if ((options.mode() == QemuMigrationOptions.Mode.DIRECT) != (o.directUri() != null)) {
            remote.abort();
            throw new QemuException(QemuException.Kind.MIGRATION, source.name() + ": the target offers "
                    + (o.directUri() != null ? "a direct QEMU URI" : "a tunnel") + " for a " + options.label() + " migration");
        }
        target = remote;
    }

    /** The target guest, when prepared on this process (null for a target attached from another host). */
    public QemuGuest target() {
        return localTarget;
    }

    /**
     * Migrates, then finishes on the target and confirms on the source. Returns the report; throws
     * MIGRATION (with the report's line in the message) when it failed, was cancelled or timed out; the
     * source then runs as before.
     */
    public QemuMigrationReport perform() {
        if (target == null) {
            throw new IllegalStateException("prepare before perform");
        }
        long started = System.nanoTime();
        QmpClient src = source.qmp();
        CompletableFuture<QmpEvent> srcDone = src.nextEvent(e -> e.name().equals("MIGRATION") && TERMINAL.contains(e.data().path("status").asText()));
        CompletableFuture<QmpEvent> srcStop = src.nextEvent(e -> e.name().equals("STOP"));
        CompletableFuture<QmpEvent> postcopyPass = options.postcopy() ? src.nextEvent(e -> e.name().equals("MIGRATION_PASS")
                && e.data().path("pass").asInt() >= options.postcopyAfterPasses()) : null;
        String outcome;
        try {
            capabilities(src, options, true);
            parameters(src);
            HypervisorMigration.Offer offer = target.offer();
            String uri = offer.directUri();
            if (options.mode() == QemuMigrationOptions.Mode.TUNNELLED) {
                sender = new Tunnel.Sender(source.socket("migrate-out"), transport, offer.tunnel(), offer.token(),
                        options.lz4(), options.tunnelRateLimit());
                uri = sender.qemuUri();
            }
            ObjectNode m = QmpClient.args();
            m.put("uri", uri);
            src.execute("migrate", m);
            if (options.postcopy()) {
                CompletableFuture.anyOf(srcDone, postcopyPass).get(options.timeout().toMillis(), TimeUnit.MILLISECONDS);
                if (!srcDone.isDone()) {
                    startPostcopy();
                }
            }
            outcome = src.await(srcDone, "end of migration", options.timeout()).data().path("status").asText();
        } catch (RuntimeException e) { // QEMU's errors, and a remote target's (any control channel's)
            return fail(started, cancelled ? "cancelled" : "failed", e.getMessage());
        } catch (java.util.concurrent.TimeoutException e) {
            return fail(started, "failed", "timed out after " + options.timeout());
        } catch (IOException | java.util.concurrent.ExecutionException e) {
            return fail(started, "failed", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail(started, "failed", "interrupted");
        }
        if (!outcome.equals("completed")) {
            String why = src.execute("query-migrate", null).path("error-desc").asText(outcome);
            return fail(started, outcome, why);
        }
        JsonNode stats = finalStats(src);
        Tunnel.Stats sent = null;
        try {
            if (sender != null) {
                sent = src.await(sender.done(), "end of the tunnel's send side", Duration.ofMinutes(1));
            }
            // finish: the target's QEMU must have loaded everything before it may run.
            long resumedAt = target.finish(sourceWasRunning);
            long downtime = -1;
            if (resumedAt >= 0 && srcStop.isDone()) {
                downtime = (resumedAt - srcStop.join().timestampMicros()) / 1000;
            }
            // confirm: the guest lives on the target now; the source QEMU goes, and never resumes here.
            try {
                source.stop();
            } catch (RuntimeException e) {
                source.destroy();
            }
            QemuMigrationReport r = new QemuMigrationReport(options.label(), "completed", Duration.ofNanos(System.nanoTime() - started),
                    stats.path("downtime").asLong(-1), downtime, stats.path("ram").path("transferred").asLong(),
                    // QEMU 7.2's ram.transferred includes the multifd channels' bytes.
                    sent == null ? stats.path("ram").path("transferred").asLong() : sent.wireBytes(),
                    sent == null ? 0 : sent.streamBytes(), stats.path("ram").path("dirty-sync-count").asLong(), null);
            return r;
        } catch (RuntimeException e) {
            return fail(started, "failed", "finish: " + e.getMessage());
        }
    }

    /** The options' label ("direct", "tunnelled+lz4", ...). */
    String label() {
        return options.label();
    }

    /** The report of the perform that failed, or null. */
    QemuMigrationReport failedReport() {
        return failedReport;
    }

    /** Cancels a running perform from another thread; perform then throws and the source keeps running. */
    public void cancel() {
        cancelled = true;
        source.qmp().execute("migrate_cancel", null);
    }

    /** query-migrate on the source. */
    public HypervisorMigration.Progress progress() {
        JsonNode q = source.qmp().execute("query-migrate", null);
        JsonNode ram = q.path("ram");
        return new HypervisorMigration.Progress(q.path("status").asText("none"), ram.path("transferred").asLong(), ram.path("remaining").asLong(),
                ram.path("total").asLong(), ram.path("dirty-sync-count").asLong(), ram.path("mbps").asDouble());
    }

    private void startPostcopy() {
        postcopyStarted = true;
        source.qmp().execute("migrate-start-postcopy", null);
        target.postcopyStarted();
    }

    static void capabilities(QmpClient qmp, QemuMigrationOptions options, boolean sourceSide) {
        ObjectNode a = QmpClient.args();
        ArrayNode caps = a.putArray("capabilities");
        cap(caps, "events", true);
        cap(caps, "multifd", options.multifdChannels() > 0);
        cap(caps, "postcopy-ram", options.postcopy());
        if (sourceSide) {
            cap(caps, "auto-converge", options.autoConverge());
        }
        qmp.execute("migrate-set-capabilities", a);
    }

    private static void cap(ArrayNode caps, String name, boolean on) {
        ObjectNode c = caps.addObject();
        c.put("capability", name);
        c.put("state", on);
    }

    private void parameters(QmpClient qmp) {
        ObjectNode p = QmpClient.args();
        p.put("downtime-limit", options.downtimeLimit().toMillis());
        p.put("max-bandwidth", options.maxBandwidth() == 0 ? QemuMigrationOptions.UNLIMITED : options.maxBandwidth());
        if (options.multifdChannels() > 0) {
            p.put("multifd-channels", options.multifdChannels());
        }
        qmp.execute("migrate-set-parameters", p);
    }

    /** query-migrate after completion; QEMU 7.2 fills total-time/downtime just after saying completed, so ask again briefly. */
    private static JsonNode finalStats(QmpClient src) {
        JsonNode q = src.execute("query-migrate", null);
        for (int i = 0; i < 100 && q.path("total-time").asLong(0) == 0; i++) {
            LockSupport.parkNanos(10_000_000);
            q = src.execute("query-migrate", null);
        }
        return q;
    }

    private QemuMigrationReport fail(long started, String outcome, String why) {
        if (sender != null) {
            sender.close();
        }
        abortTarget();
        if (postcopyStarted) {
            // The target ran with pages the source never sent again: neither copy is whole. As in QEMU, the guest is lost.
            source.destroy();
            QemuMigrationReport r = new QemuMigrationReport(options.label(), "guest-lost", Duration.ofNanos(System.nanoTime() - started),
                    -1, -1, 0, 0, 0, 0, why);
            failedReport = r;
            throw new QemuException(QemuException.Kind.MIGRATION, source.name() + ": post-copy migration " + outcome
                    + " after the target started: the guest is lost on both sides: " + r.toLogLine());
        }
        // The source must run after a failed migration exactly as before; QEMU resumes it itself in most
        // cases, but not when the failure hit after the switch-over stop.
        try {
            if (source.status() != VmStatus.STOPPED) {
                String st = source.qmp().execute("query-migrate", null).path("status").asText();
                if (!TERMINAL.contains(st) && !st.equals("none")) {
                    source.qmp().execute("migrate_cancel", null);
                    source.qmp().await(source.qmp().nextEvent(e -> e.name().equals("MIGRATION")
                            && TERMINAL.contains(e.data().path("status").asText())), "cancel after failure", Duration.ofSeconds(30));
                }
                if (sourceWasRunning && !source.runState().equals("running")) {
                    source.resume();
                }
            }
        } catch (QemuException e) {
            why = why + "; recovering the source: " + e.getMessage();
        }
        QemuMigrationReport r = new QemuMigrationReport(options.label(), outcome, Duration.ofNanos(System.nanoTime() - started), -1, -1, 0, 0, 0, 0, why);
        failedReport = r;
        throw new QemuException(QemuException.Kind.MIGRATION, source.name() + ": migration " + outcome + ", the source keeps the guest: " + r.toLogLine());
    }

    private void abortTarget() {
        if (target != null) {
            target.abort();
        }
    }
}
