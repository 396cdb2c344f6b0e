package io.ferryvm.cluster.agent;

import io.ferryvm.core.VmSpec;
import io.ferryvm.migration.HypervisorMigration;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A driver migration's target agent as the source reaches it: asks from the source's worker thread.
 * Prepare is resent every few seconds until answered (remote delivery is at most once; the target
 * prepares once per migration id) and fails at once when the target's node left. Finish waits for its
 * answer or its timeout (a target that does not answer may have resumed the guest: the source then asks
 * abort, whose answer decides). An abort nobody answers counts as done: the target's watchdog discards
 * an incoming guest no finish reached.
 */
final class AskDriverTarget implements DriverMigrations.Remote {
    /** Starting the incoming QEMU (and pinning it) takes seconds; allow more than an ordinary ask. */
    private static final Duration PREPARE = Duration.ofMinutes(3);
    private static final Duration ABORT = Duration.ofMinutes(2);
    /** Beyond the migration's own timeout: the target's wait for its hypervisor's end of stream. */
    private static final Duration FINISH_MARGIN = Duration.ofMinutes(2);

    private final ActorRef<AgentProtocol.Command> target;
    private final ActorSystem<?> system;
    private final CompletableFuture<Void> targetGone;
    private volatile Duration finishTimeout = FINISH_MARGIN;

    AskDriverTarget(ActorRef<AgentProtocol.Command> target, ActorSystem<?> system, CompletableFuture<Void> targetGone) {
        this.target = target;
        this.system = system;
        this.targetGone = targetGone;
    }

    @Override
    public HypervisorMigration.Offer prepare(UUID migrationId, VmSpec spec, HypervisorMigration.Options options) {
        finishTimeout = options.timeout().plus(FINISH_MARGIN);
        AgentProtocol.DriverAnswer a;
        try {
            a = Asks.resending(target, r -> new AgentProtocol.DriverPrepareIn(migrationId, spec, options, r), PREPARE,
                    AskTargetControl.PREPARE_RESEND, targetGone, system);
        } catch (Asks.Unanswered e) {
            throw new IllegalStateException(switch (e.why()) {
                case TIMED_OUT -> "the target did not answer prepare within " + PREPARE.toSeconds() + " s";
                case TARGET_GONE -> "the target's node left the cluster during prepare";
                case INTERRUPTED -> "interrupted during prepare";
            });
        }
        if (!a.ok()) {
            throw new IllegalStateException(a.error());
        }
        return new HypervisorMigration.Offer(a.directUri(), a.tunnel(), a.token() == null ? null : HexFormat.of().parseHex(a.token()));
    }

    @Override
    public void postcopyStarted(UUID migrationId) {
        AgentProtocol.DriverAnswer a = ask(r -> new AgentProtocol.DriverPostcopyIn(migrationId, r), PREPARE, "post-copy start");
        if (!a.ok()) {
            throw new IllegalStateException("post-copy start on the target: " + a.error());
        }
    }

    @Override
    public long finish(UUID migrationId, boolean resume) {
        AgentProtocol.DriverAnswer a = ask(r -> new AgentProtocol.DriverFinishIn(migrationId, resume, r), finishTimeout, "finish");
        if (!a.ok()) {
            throw new IllegalStateException("finish on the target: " + a.error());
        }
        return a.time();
    }

    @Override
    public DriverMigrations.AbortOutcome abort(UUID migrationId) {
        try {
            AgentProtocol.DriverAnswer a = ask(r -> new AgentProtocol.DriverAbortIn(migrationId, r), ABORT, "abort");
            return new DriverMigrations.AbortOutcome(!a.ok() || a.aborted(), a.time());
        } catch (IllegalStateException mute) {
            return new DriverMigrations.AbortOutcome(true, -1);
        }
    }

    private AgentProtocol.DriverAnswer ask(org.apache.pekko.japi.function.Function<ActorRef<AgentProtocol.DriverAnswer>, AgentProtocol.Command> msg,
            Duration t, String what) {
        try {
            return Asks.once(target, msg, t, system);
        } catch (Asks.Unanswered e) {
            throw new IllegalStateException(e.why() == Asks.Why.INTERRUPTED ? "interrupted during " + what
                    : "the target did not answer " + what + " within " + t.toSeconds() + " s");
        }
    }
}
