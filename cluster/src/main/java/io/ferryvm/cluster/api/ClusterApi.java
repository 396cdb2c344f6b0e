package io.ferryvm.cluster.api;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmSpec;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The cluster as a Java API, on any node: what the REST API, the CIM provider and in-process tools call.
 * Every call goes to the orchestrator singleton and completes with its answer (or fails after the
 * timeout, never silently).
 */
public final class ClusterApi {
    public static final Duration TIMEOUT = Duration.ofSeconds(90);

    private final ActorSystem<?> system;
    private final ActorRef<OrchestratorProtocol.Command> orchestrator;
    private final ActorRef<Topic.Command<ClusterEvent>> events;

    public ClusterApi(ActorSystem<?> system, ActorRef<OrchestratorProtocol.Command> orchestrator,
            ActorRef<Topic.Command<ClusterEvent>> events) {
        this.system = system;
        this.orchestrator = orchestrator;
        this.events = events;
    }

    private <T> CompletionStage<T> ask(org.apache.pekko.japi.function.Function<ActorRef<T>, OrchestratorProtocol.Command> f) {
        return AskPattern.ask(orchestrator, f, TIMEOUT, system.scheduler());
    }

    public CompletionStage<OrchestratorProtocol.Result> define(VmSpec spec, String host, boolean start) {
        return ask(r -> new OrchestratorProtocol.Define(spec, host, start, r));
    }

    public CompletionStage<OrchestratorProtocol.Result> act(String vm, AgentProtocol.Op op) {
        return ask(r -> new OrchestratorProtocol.Act(vm, op, r));
    }

    public CompletionStage<OrchestratorProtocol.Result> vm(String vm) {
        return ask(r -> new OrchestratorProtocol.GetVm(vm, r));
    }

    public CompletionStage<OrchestratorProtocol.VmList> vms() {
        return ask(OrchestratorProtocol.ListVms::new);
    }

    /** Tells the orchestrator that the whole cluster is about to stop (see EmbeddedCluster#close). */
    public CompletionStage<OrchestratorProtocol.Result> stopping() {
        return ask(OrchestratorProtocol.ClusterStopping::new);
    }

    public CompletionStage<OrchestratorProtocol.HostList> hosts() {
        return ask(OrchestratorProtocol.ListHosts::new);
    }

    public CompletionStage<AgentProtocol.GuestCheck> checkGuest(String vm) {
        return ask(r -> new OrchestratorProtocol.CheckGuest(vm, r));
    }

    public CompletionStage<OrchestratorProtocol.MigrationAccepted> migrate(String vm, String to, MigrationOptions options) {
        return ask(r -> new OrchestratorProtocol.Migrate(vm, to, options, r));
    }

    public CompletionStage<OrchestratorProtocol.Result> cancelMigration(UUID id) {
        return ask(r -> new OrchestratorProtocol.CancelMigration(id, r));
    }

    public CompletionStage<OrchestratorProtocol.MigrationList> migrations() {
        return ask(OrchestratorProtocol.ListMigrations::new);
    }

    public CompletionStage<OrchestratorProtocol.PlanAccepted> evacuate(String host) {
        return ask(r -> new OrchestratorProtocol.Evacuate(host, r));
    }

    public CompletionStage<OrchestratorProtocol.PlanAccepted> rebalance(int maxMigrations) {
        return ask(r -> new OrchestratorProtocol.Rebalance(maxMigrations, r));
    }

    /** Subscribes an actor to every cluster event (published on any node). */
    public void subscribe(ActorRef<ClusterEvent> subscriber) {
        events.tell(Topic.subscribe(subscriber));
    }

    public void unsubscribe(ActorRef<ClusterEvent> subscriber) {
        events.tell(Topic.unsubscribe(subscriber));
    }

    public ActorSystem<?> system() {
        return system;
    }
}
