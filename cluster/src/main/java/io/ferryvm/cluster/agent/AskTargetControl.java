package io.ferryvm.cluster.agent;

import io.ferryvm.migration.MigrationException;
import io.ferryvm.migration.MigrationFailure;
import io.ferryvm.migration.MigrationOffer;
import io.ferryvm.migration.MigrationTarget;
import io.ferryvm.migration.MigrationTicket;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The control plane to a migration's target host: asks to its agent, from the source's worker thread.
 * A target that does not answer in time is reported as TimedOut (then aborted by the source).
 */
final class AskTargetControl implements MigrationAgent.TargetControl {
    /** Prepare pre-faults the whole guest: allow it more than the request's per-step timeout. */
    private static final Duration MIN_PREPARE = Duration.ofMinutes(3);

    private final ActorRef<AgentProtocol.Command> target;
    private final ActorSystem<?> system;
    private final Duration timeout;

    AskTargetControl(ActorRef<AgentProtocol.Command> target, ActorSystem<?> system, Duration timeout) {
        this.target = target;
        this.system = system;
        this.timeout = timeout;
    }

    @Override
    public MigrationTicket prepare(MigrationOffer offer) {
        Duration t = timeout.compareTo(MIN_PREPARE) > 0 ? timeout : MIN_PREPARE;
        AgentProtocol.Prepared p = ask(r -> new AgentProtocol.PrepareIn(offer, r), t, "prepare");
        if (!p.ok()) {
            throw new MigrationException(new MigrationFailure.Rejected("prepare", p.error()));
        }
        return p.ticket();
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
            return AskPattern.ask(target, msg, t, system.scheduler()).toCompletableFuture().get(t.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new MigrationException(new MigrationFailure.TimedOut(what + " on the target", t));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationException(new MigrationFailure.Cancelled("interrupted during " + what));
        }
    }
}
