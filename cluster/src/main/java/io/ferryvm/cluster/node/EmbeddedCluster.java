package io.ferryvm.cluster.node;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.host.HostInventory;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * N Ferry nodes in one process on 127.0.0.1 ({@code ferry up}, {@code ferry demo}, in-process tests):
 * separate actor systems joined into one cluster over real TCP, each with a simulated NUMA topology
 * and its own state directory; the first node serves the API and web console.
 */
public final class EmbeddedCluster implements AutoCloseable {
    /** The simulated host every embedded node gets: 2 NUMA nodes x 4 cores x 2 threads, 8 GiB per node. */
    public static HostInventory defaultTopology(String name) {
        return HostInventory.declared(name, 2, 4, 2, 8L << 30);
    }

    private final List<FerryNode> nodes;

    private EmbeddedCluster(List<FerryNode> nodes) {
        this.nodes = nodes;
    }

    /**
     * Starts hosts nodes named host1..hostN with state under baseDir (kept across runs: a restarted
     * cluster knows every VM it had). apiPort 0 picks a free port.
     */
    public static EmbeddedCluster start(int hosts, Path baseDir, int apiPort, Duration stableAfter) {
        return start(hosts, baseDir, apiPort, stableAfter, EmbeddedCluster::defaultTopology, null);
    }

    /** As {@link #start(int, Path, int, Duration)}, the first node also serving CIM (WBEM) with cim (null: none). */
    public static EmbeddedCluster start(int hosts, Path baseDir, int apiPort, Duration stableAfter,
            io.ferryvm.cim.CimServerConfig cim) {
        return start(hosts, baseDir, apiPort, stableAfter, EmbeddedCluster::defaultTopology, cim);
    }

    /** As above, with the simulated topology of each host given by name. */
    public static EmbeddedCluster start(int hosts, Path baseDir, int apiPort, Duration stableAfter,
            java.util.function.Function<String, HostInventory> topology) {
        return start(hosts, baseDir, apiPort, stableAfter, topology, null);
    }

    /** The general form: topology per host name, CIM served by the first node (cim null: none). */
    public static EmbeddedCluster start(int hosts, Path baseDir, int apiPort, Duration stableAfter,
            java.util.function.Function<String, HostInventory> topology, io.ferryvm.cim.CimServerConfig cim) {
        if (hosts < 1 || hosts > 32) {
            throw new IllegalArgumentException("an embedded cluster has 1..32 hosts, not " + hosts);
        }
        int[] ports = new int[hosts];
        for (int i = 0; i < hosts; i++) {
            ports[i] = freePort();
        }
        String seed = "127.0.0.1:" + ports[0];
        List<FerryNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < hosts; i++) {
                String name = "host" + (i + 1);
                NodeConfig c = new NodeConfig(name, "127.0.0.1", ports[i], List.of(seed), baseDir.resolve(name),
                        topology.apply(name), "127.0.0.1", i == 0 ? (apiPort == 0 ? freePort() : apiPort) : 0, stableAfter,
                        Duration.ofSeconds(2), false);
                nodes.add(FerryNode.start(i == 0 ? c.withCim(cim) : c));
            }
            EmbeddedCluster cluster = new EmbeddedCluster(nodes);
            cluster.awaitHosts(hosts, Duration.ofMinutes(2));
            return cluster;
        } catch (RuntimeException e) {
            nodes.forEach(FerryNode::close);
            throw e;
        }
    }

    /** Waits until the orchestrator knows every host (the cluster formed and every agent reported). */
    public void awaitHosts(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                long up = first().api().hosts().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS)
                        .hosts().stream().filter(h -> h.up()).count();
                if (up >= n) {
                    return;
                }
            } catch (Exception e) {
                // the singleton may not run yet: retry until the deadline
            }
            LockSupport.parkNanos(MILLISECONDS.toNanos(200));
        }
        throw new CoreException(CoreException.Kind.TIMEOUT, "the embedded cluster did not see " + n + " hosts within " + timeout);
    }

    public List<FerryNode> nodes() {
        return nodes;
    }

    public FerryNode first() {
        return nodes.get(0);
    }

    public FerryNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name));
    }

    public String apiUrl() {
        return first().apiUrl();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, "no free TCP port on 127.0.0.1: " + e.getMessage(), e);
        }
    }

    /**
     * Stops the whole cluster: the orchestrator is told first, so it takes its hosts' leaving for the
     * planned stop it is (no VMs marked lost, no HA restarts onto a host about to stop too); then the nodes
     * leave one by one, the orchestrator's (the oldest) last so the singleton never moves. All nodes share
     * this process's log, where their connections to each other breaking is expected: not worth a warning.
     */
    @Override
    public void close() {
        try {
            first().api().stopping().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // no orchestrator answering: the nodes stop as they are
        }
        org.slf4j.Logger streams = org.slf4j.LoggerFactory.getLogger("org.apache.pekko.stream.Materializer");
        if (nodes.size() > 1 && streams instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(ch.qos.logback.classic.Level.ERROR);
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
    }
}
