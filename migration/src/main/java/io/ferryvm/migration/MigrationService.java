package io.ferryvm.migration;

import io.ferryvm.core.Host;
import io.ferryvm.core.Ticker;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.state.StateCodec;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live migration for one host: the entry point of this module. As a source it {@link #begin}s
 * migrations of its VMs; as a target it {@link #prepare}s for incoming ones. A control plane (the
 * cluster's host agents) drives the phases one by one between two hosts; {@link #migrate} drives them
 * in-process, in the same order, for tests, benchmarks and single-process setups.
 */
public final class MigrationService {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationService.class);

    private final Host host;
    private final Transport transport;
    private final Failpoints failpoints;
    private final MigrationListener listener;
    private final MigrationJournal journal;
    private final Function<MachineState, byte[]> stateEncoder;
    /** The target's activation in the last migration out of this host that confirmed (0: none yet). */
    private volatile long lastActivationNanos;

    public MigrationService(Host host, Transport transport) {
        this(host, transport, Failpoints.fromEnvironment(), MigrationListener.NONE);
    }

    public MigrationService(Host host, Transport transport, Failpoints failpoints, MigrationListener listener) {
        this(host, transport, failpoints, listener, StateCodec::encode);
    }

    /** Tests: stateEncoder stands in for {@link StateCodec#encode} (a guest whose state is slow to save). */
    MigrationService(Host host, Transport transport, Failpoints failpoints, MigrationListener listener,
            Function<MachineState, byte[]> stateEncoder) {
        this.host = Objects.requireNonNull(host, "host");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.failpoints = Objects.requireNonNull(failpoints, "failpoints");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.stateEncoder = Objects.requireNonNull(stateEncoder, "stateEncoder");
        this.journal = MigrationJournal.of(host);
    }

    public Host host() {
        return host;
    }

    public MigrationJournal journal() {
        return journal;
    }

    Transport transport() {
        return transport;
    }

    Failpoints failpoints() {
        return failpoints;
    }

    MigrationListener listener() {
        return listener;
    }

    Ticker ticker() {
        return host.config().ticker();
    }

    byte[] encodeState(MachineState state) {
        return stateEncoder.apply(state);
    }

    long lastActivationNanos() {
        return lastActivationNanos;
    }

    void activationMeasured(long nanos) {
        if (nanos > 0) {
            lastActivationNanos = nanos;
        }
    }

    /** Source, begin: checks the VM and the request; the VM becomes MIGRATING and keeps running. */
    public MigrationSource begin(UUID vm, MigrationRequest request) {
        return MigrationSource.begin(this, vm, request);
    }

    /** Begin under a migration id the control plane chose (so its records and this migration's agree). */
    public MigrationSource begin(UUID vm, MigrationRequest request, UUID migrationId) {
        return MigrationSource.begin(this, vm, request, Wire.PROTOCOL.current(), migrationId);
    }

    /** Target, prepare: reserves placement and pre-faulted memory, listens, issues the one-time token. */
    public MigrationTarget prepare(MigrationOffer offer) {
        return MigrationTarget.prepare(this, offer);
    }

    /**
     * All five phases in this process, the way a control plane runs them: begin, prepare, perform,
     * finish, confirm; on any failure before finish the target is aborted and the source resumes. Never
     * throws for a failed migration: the report says what happened.
     */
    public MigrationReport migrate(UUID vm, MigrationRequest request, MigrationService target) {
        MigrationSource src;
        try {
            src = begin(vm, request);
        } catch (MigrationException e) {
            MigrationReport r = MigrationSource.rejectedReport(vm, request, e.failure());
            LOG.info(r.toLogLine());
            return r;
        }
        MigrationTarget dst;
        try {
            dst = target.prepare(src.offer());
        } catch (MigrationException e) {
            return src.abort(e.failure());
        }
        try {
            src.perform(dst.ticket());
        } catch (MigrationException e) {
            MigrationFailure targetSaw = dst.failure();
            MigrationFailure why = targetSaw != null ? targetSaw : e.failure();
            dst.abort(why);
            src.abort(why);
            return src.blame(targetSaw);
        }
        MigrationTarget.Finished fin;
        CompletableFuture<MigrationTarget.Finished> f = CompletableFuture.supplyAsync(dst::finish, r -> {
            Thread t = new Thread(r, "ferry-finish-" + src.offer().migrationId());
            t.setDaemon(true);
            t.start();
        });
        try {
            fin = f.get(request.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            MigrationFailure why = new MigrationFailure.TimedOut("finish on " + target.host().name(), request.timeout());
            if (!dst.abort(why)) {
                return src.confirm(f.join()); // finished just now: the guest runs on the target
            }
            return src.abort(why);
        } catch (ExecutionException e) {
            MigrationFailure why = e.getCause() instanceof MigrationException
                    ? ((MigrationException) e.getCause()).failure()
                    : new MigrationFailure.HostError(target.host().name(), String.valueOf(e.getCause()));
            dst.abort(why);
            return src.abort(why);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            MigrationFailure why = new MigrationFailure.Cancelled("interrupted while waiting for finish");
            if (!dst.abort(why)) {
                return src.confirm(f.join());
            }
            return src.abort(why);
        }
        return src.confirm(fin);
    }
}
