package io.ferryvm.cluster.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.agent.AgentState;
import io.ferryvm.cluster.agent.HostAgent;
import io.ferryvm.cluster.agent.MigrationAgent;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.TcpTransport;
import io.ferryvm.migration.TlsTransport;
import io.ferryvm.cluster.api.NodeApi;
import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.api.NodeMetrics;
import io.ferryvm.cluster.api.RestApi;
import io.ferryvm.cluster.cim.CimServing;
import io.ferryvm.cluster.orchestrator.Orchestrator;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.cluster.orchestrator.Placements;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.HypervisorDriver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Ferry node: an engine-core host, its host agent, a share of the orchestrator singleton, the
 * event topic and (optionally) the REST API and web console. Many nodes may live in one JVM (the
 * embedded cluster) or one per process (a real cluster).
 */
public final class FerryNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FerryNode.class);

    private final NodeConfig config;
    private final Host host;
    /** The node's hypervisor driver (NodeConfig.hypervisor), or null for the built-in hypervisor. */
    private final HypervisorDriver driver;
    private final ActorSystem<Void> system;
    private final ActorRef<OrchestratorProtocol.Command> orchestrator;
    private final ActorRef<Topic.Command<ClusterEvent>> events;
    private final ActorRef<AgentProtocol.Command> agent;
    private final ClusterApi api;
    private final ServerBinding binding;
    private final MigrationAgent migrations;
    private final io.ferryvm.cim.CimServer cim;

    private record Refs(ActorRef<OrchestratorProtocol.Command> orchestrator, ActorRef<Topic.Command<ClusterEvent>> events,
            ActorRef<AgentProtocol.Command> agent) {}

    private FerryNode(NodeConfig config, NodeNetwork network) {
        this.config = config;
        this.host = Host.open(new HostConfig(config.name(), config.stateDir().resolve("host"), config.inventory(),
                Placements.hostPlacer(config.inventory()), null));
        try {
            this.driver = HypervisorDriver.open(config.hypervisor(), host.config()).orElse(null);
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
        if (driver != null) {
            LOG.info("node {} runs its guests on the {} hypervisor ({})", config.name(), driver.name(), driver.accelerator());
        }
        AgentState state = new AgentState(config.stateDir());
        Failpoints failpoints = Failpoints.fromEnvironment();
        io.ferryvm.migration.Transport transport;
        if (config.dataPlane().equals(NodeConfig.PEKKO_TCP)) {
            if (network.tls() != null || network.migrationProxy() != null) {
                // Pekko Streams TCP has neither our TLS channel nor a SOCKS5 hop: refuse rather than run in the clear.
                throw new IllegalArgumentException("data plane " + NodeConfig.PEKKO_TCP
                        + " supports neither --tls-keystore nor --migration-proxy: use " + NodeConfig.TCP);
            }
            transport = new io.ferryvm.cluster.dataplane.PekkoStreamsTransport(this::system, config.bindHost());
        } else {
            transport = network.tls() == null
                    ? new TcpTransport(config.bindHost(), network.migrationProxy())
                    : new TlsTransport(network.tls().sslContext(), config.bindHost(), network.migrationProxy());
        }
        this.migrations = new MigrationAgent(host, transport, failpoints);
        NodeMetrics metrics = new NodeMetrics();
        CompletableFuture<Refs> refs = new CompletableFuture<>();
        String address = "pekko://ferry@" + config.bindHost() + ":" + config.port();
        this.system = ActorSystem.create(Behaviors.setup(ctx -> {
            // Every node keeps a replica of the VM directory: start this node's replicator now, not when an
            // orchestrator first needs it (writes to all nodes would wait for a replicator that never came).
            org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData.get(ctx.getSystem());
            ActorRef<Topic.Command<ClusterEvent>> topic = ctx.spawn(Topic.create(ClusterEvent.class, "ferry-events"), "events");
            ActorRef<OrchestratorProtocol.Command> proxy = ClusterSingleton.get(ctx.getSystem()).init(
                    SingletonActor.of(Behaviors.supervise(Orchestrator.create(new Placements(metrics.placementObserver()), topic, config.haRestartDelay()))
                            .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2)),
                            "orchestrator")
                            .withStopMessage(OrchestratorProtocol.Stop.INSTANCE));
            // A bug in one message must not take the node's agent away: it restarts (it keeps no state of its own).
            ActorRef<AgentProtocol.Command> a = ctx.spawn(Behaviors.supervise(HostAgent.create(host, state, address, migrations, proxy, driver))
                    .onFailure(SupervisorStrategy.restart()), "host-agent", DispatcherSelector.blocking());
            refs.complete(new Refs(proxy, topic, a));
            return Behaviors.empty();
        }), "ferry", network.tls() == null ? pekkoConfig(config) : network.tls().pekkoConfig().withFallback(pekkoConfig(config)));
        Refs r = refs.join();
        this.orchestrator = r.orchestrator();
        this.events = r.events();
        this.agent = r.agent();
        // A downed or leaving node stops its VMs: once the majority restarts them elsewhere, this copy must be gone.
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "ferry-stop-vms", () -> {
            closeGuests();
            return CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance());
        });
        this.api = new ClusterApi(system, orchestrator, events);
        if (config.apiPort() > 0) {
            try {
                this.binding = Http.get(system).newServerAt(config.apiHost(), config.apiPort())
                        .bind(new NodeApi(host, migrations, failpoints).routes(
                                new RestApi(api, system, config.stateDir().resolve("images"), metrics).routes()))
                        .toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                system.terminate();
                closeGuests();
                throw new CoreException(CoreException.Kind.IO, "cannot serve the API on " + config.apiHost() + ":"
                        + config.apiPort() + ": " + e.getMessage(), e);
            }
            LOG.info("node {} serves the API on http://{}:{}/", config.name(), config.apiHost(), config.apiPort());
        } else {
            this.binding = null;
        }
        try {
            this.cim = config.cim() == null ? null : CimServing.start(config.cim(), api, metrics.cimObserver());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public static FerryNode start(NodeConfig config) {
        return new FerryNode(config, NodeNetwork.PLAIN);
    }

    /** A node whose cluster and migration traffic goes as network says (TLS, a migration proxy). */
    public static FerryNode start(NodeConfig config, NodeNetwork network) {
        return new FerryNode(config, network);
    }

    static Config pekkoConfig(NodeConfig c) {
        String seeds = c.seeds().stream().map(s -> "\"pekko://ferry@" + s + "\"").collect(Collectors.joining(","));
        String cfg = String.join("\n",
                "pekko.remote.artery.canonical.hostname = \"" + c.bindHost() + "\"",
                "pekko.remote.artery.canonical.port = " + c.port(),
                "pekko.cluster.seed-nodes = [" + seeds + "]",
                "pekko.cluster.split-brain-resolver.stable-after = " + c.stableAfter().toMillis() + "ms",
                "pekko.coordinated-shutdown.exit-jvm = " + (c.exitJvmWhenDowned() ? "on" : "off"));
        return ConfigFactory.parseString(cfg).withFallback(ConfigFactory.load("ferry-node")).withFallback(ConfigFactory.load());
    }

    public String name() {
        return config.name();
    }

    public NodeConfig config() {
        return config;
    }

    public Host host() {
        return host;
    }

    /** The node's hypervisor driver, empty on the built-in hypervisor. */
    public java.util.Optional<HypervisorDriver> driver() {
        return java.util.Optional.ofNullable(driver);
    }

    public ClusterApi api() {
        return api;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    /** The REST API's base URL, or null when this node serves none. */
    public String apiUrl() {
        return binding == null ? null : "http://" + config.apiHost() + ":" + binding.localAddress().getPort();
    }

    /** The CIM (WBEM) server of this node, or null when it serves none. */
    public io.ferryvm.cim.CimServer cimServer() {
        return cim;
    }

    /** Leaves the cluster gracefully and stops this node's VMs. */
    @Override
    public void close() {
        if (cim != null) {
            cim.close();
        }
        if (binding != null) {
            binding.unbind();
        }
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("node {} did not terminate cleanly: {}", config.name(), e.toString());
        }
        migrations.close();
        closeGuests();
    }

    /** Stops every guest of this node: the driver's (it destroys what it still runs), then the host's. */
    private void closeGuests() {
        if (driver != null) {
            driver.close();
        }
        host.close();
    }

    static Duration askTimeout() {
        return Duration.ofSeconds(60);
    }
}
