package io.ferryvm.cluster.agent;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.function.Function;

/**
 * Blocking asks to another host's agent, from a migration's worker thread: the control plane of the
 * built-in migration ({@link AskTargetControl}) and of a hypervisor driver's ({@link AskDriverTarget}).
 * Each caller turns an {@link Unanswered} into its own failure type.
 */
final class Asks {
    private Asks() {}

    /** Why no answer came. */
    enum Why { TIMED_OUT, TARGET_GONE, INTERRUPTED }

    static final class Unanswered extends Exception {
        private final Why why;

        Unanswered(Why why) {
            super(why.name(), null, false, false);
            this.why = why;
        }

        Why why() {
            return why;
        }
    }

    /** One ask, waited for up to t (and a second of grace). */
    static <T> T once(ActorRef<AgentProtocol.Command> target, Function<ActorRef<T>, AgentProtocol.Command> msg, Duration t,
            ActorSystem<?> system) throws Unanswered {
        CompletableFuture<T> answer = AskPattern.ask(target, msg, t, system.scheduler()).toCompletableFuture();
        try {
            return answer.get(t.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new Unanswered(Why.TIMED_OUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unanswered(Why.INTERRUPTED);
        }
    }

    /**
     * An ask resent every {@code every} until an answer comes, for a request the target handles once per
     * id and answers every copy of (remote delivery is at most once, e.g. around a peer's restart); fails
     * at once when gone completes (the target's node left), and after total.
     */
    static <T> T resending(ActorRef<AgentProtocol.Command> target, Function<ActorRef<T>, AgentProtocol.Command> msg, Duration total,
            Duration every, CompletableFuture<Void> gone, ActorSystem<?> system) throws Unanswered {
        long deadline = System.nanoTime() + total.toNanos();
        CompletableFuture<T> answer = new CompletableFuture<>();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new Unanswered(Why.TIMED_OUT);
                }
                AskPattern.ask(target, msg, Duration.ofNanos(left), system.scheduler()).toCompletableFuture().thenAccept(answer::complete);
                try {
                    CompletableFuture.anyOf(answer, gone).get(Math.min(TimeUnit.NANOSECONDS.toMillis(left), every.toMillis()),
                            TimeUnit.MILLISECONDS);
                } catch (TimeoutException resend) {
                    continue;
                }
                if (!answer.isDone()) {
                    throw new Unanswered(Why.TARGET_GONE);
                }
                return answer.get();
            }
        } catch (ExecutionException e) {
            throw new Unanswered(Why.TIMED_OUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unanswered(Why.INTERRUPTED);
        }
    }
}
