package io.ferryvm.cluster.agent;

import io.ferryvm.migration.MigrationException;
import io.ferryvm.migration.MigrationFailure;
import io.ferryvm.migration.MigrationOffer;
import io.ferryvm.migration.MigrationTarget;
import io.ferryvm.migration.MigrationTicket;
import java.time.Duration;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The control plane to a migration's target host: asks to its agent, from the source's worker thread.
 * A target that does not answer in time is reported as TimedOut (then aborted by the source). A prepare
 * whose target's node left the cluster fails at once (PeerLost): nothing runs there before finish, so the
 * source need not wait out the three minutes prepare is allowed. Finish and abort always wait for an
 * answer or their timeout: a target that left after finish was asked may have run the guest.
 */
final class AskTargetControl implements MigrationAgent.TargetControl {
    /** Prepare pre-faults the whole guest: allow it more than the request's per-step timeout. */
    private static final Duration MIN_PREPARE = Duration.ofMinutes(3);
    /** How long a prepare waits for its answer before it sends the request again. */
    static final Duration PREPARE_RESEND = Duration.ofSeconds(3);

    private final ActorRef<AgentProtocol.Command> target;
    private final ActorSystem<?> system;
    private final Duration timeout;
    private final java.util.concurrent.CompletableFuture<Void> targetGone;

    AskTargetControl(ActorRef<AgentProtocol.Command> target, ActorSystem<?> system, Duration timeout,
            java.util.concurrent.CompletableFuture<Void> targetGone) {
        this.target = target;
        this.system = system;
        this.timeout = timeout;
        this.targetGone = targetGone;
    }

    @Override
    public MigrationTicket prepare(MigrationOffer offer) {
        Duration t = timeout.compareTo(MIN_PREPARE) > 0 ? timeout : MIN_PREPARE;
        AgentProtocol.Prepared p = askResending(r -> new AgentProtocol.PrepareIn(offer, r), t);
        if (!p.ok()) {
            throw new MigrationException(new MigrationFailure.Rejected("prepare", p.error()));
        }
        return p.ticket();
    }

    /**
     * Prepare may run for minutes (it pre-faults the guest), but a lost message (remote delivery is at most
     * once, e.g. around a peer's restart) must not cost all of them: the request is resent every few
     * seconds until an answer comes (the target prepares once per migration id and answers every copy).
     */
    private AgentProtocol.Prepared askResending(org.apache.pekko.japi.function.Function<ActorRef<AgentProtocol.Prepared>,
            AgentProtocol.Command> msg, Duration t) {
        try {
            return Asks.resending(target, msg, t, PREPARE_RESEND, targetGone, system);
        } catch (Asks.Unanswered e) {
            throw new MigrationException(switch (e.why()) {
                case TIMED_OUT -> new MigrationFailure.TimedOut("prepare on the target", t);
                case TARGET_GONE -> new MigrationFailure.PeerLost("target", "its node left the cluster during prepare");
                case INTERRUPTED -> new MigrationFailure.Cancelled("interrupted during prepare");
            });
        }
    }

    @Override
    public MigrationTarget.Finished finish(UUID migrationId) {
        AgentProtocol.FinishReply f = ask(r -> new AgentProtocol.FinishIn(migrationId, r), timeout.plus(timeout), "finish");
        if (!f.ok()) {
            throw new MigrationException(new MigrationFailure.HostError("target", f.error()));
        }
        return f.finished();
    }

    @Override
    public MigrationAgent.AbortOutcome abort(UUID migrationId, String reason) {
        try {
            AgentProtocol.AbortReply a = ask(r -> new AgentProtocol.AbortIn(migrationId, reason, r), timeout, "abort");
            return new MigrationAgent.AbortOutcome(a.aborted(), a.targetFailure(), a.finished());
        } catch (MigrationException e) {
            // The target is gone or mute: it cleans up by itself (its channels broke); the guest resumes here.
            return new MigrationAgent.AbortOutcome(true, "", null);
        }
    }

    private <T> T ask(org.apache.pekko.japi.function.Function<ActorRef<T>, AgentProtocol.Command> msg, Duration t, String what) {
        try {
            return Asks.once(target, msg, t, system);
        } catch (Asks.Unanswered e) {
            throw new MigrationException(e.why() == Asks.Why.INTERRUPTED ? new MigrationFailure.Cancelled("interrupted during " + what)
                    : new MigrationFailure.TimedOut(what + " on the target", t));
        }
    }
}
