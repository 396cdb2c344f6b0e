package io.ferryvm.cluster.cli;

import io.ferryvm.cluster.node.ClusterTls;
import io.ferryvm.cluster.node.FerryNode;
import io.ferryvm.cluster.node.NodeNetwork;
import io.ferryvm.cluster.node.NodeConfig;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.host.InventoryReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry node}: one node of a real (multi-process or multi-machine) cluster. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "Run one Ferry node that joins a cluster through seed nodes.")
final class NodeCommand implements Callable<Integer> {
    private static final Pattern TOPOLOGY = Pattern.compile("(\\d+)x(\\d+)x(\\d+)@(\\S+)");

    @Option(names = "--name", required = true, description = "This host's name in the cluster.")
    String name;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address for cluster traffic (default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--port", defaultValue = "2551", description = "Port for cluster traffic (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--seed", description = "A seed node's host:port (repeat; include this node's own to bootstrap).")
    List<String> seeds = List.of();

    @Option(names = "--state-dir", required = true, description = "This node's state directory.")
    Path stateDir;

    @Option(names = "--api-port", defaultValue = "0", description = "Serve the API and console on this port (0: none).")
    int apiPort;

    @Option(names = "--api-bind", defaultValue = "127.0.0.1", description = "Address the API listens on (default ${DEFAULT-VALUE}).")
    String apiBind;

    @Option(names = "--tls-keystore", description = "PKCS#12 key store with this node's cluster certificate: cluster and "
            + "migration traffic then use mutual TLS (password in $" + ClusterTls.PASSWORD_ENV + ").")
    Path tlsKeyStore;

    @Option(names = "--tls-truststore", description = "PKCS#12 trust store with the cluster's certificate authority.")
    Path tlsTrustStore;

    @Option(names = "--migration-proxy", description = "SOCKS5 proxy host:port that outgoing migration channels go through.")
    String migrationProxy;

    @Option(names = "--topology", description = "Simulated NUMA topology NODESxCORESxTHREADS@MEMORY_PER_NODE, e.g. 2x4x2@8G "
            + "(default: this machine's real topology, with real pinning).")
    String topology;

    @Option(names = "--data-plane", defaultValue = "tcp",
            description = "Migration data plane: tcp (default, the faster here) or pekko-tcp (Pekko Streams TCP).")
    String dataPlane;

    @Option(names = "--hypervisor", defaultValue = "builtin",
            description = "What runs this node's guests: builtin (default) or qemu (QEMU/KVM; define, start, pause, resume, stop).")
    String hypervisor;

    @Option(names = "--stable-after", defaultValue = "7", description = "Seconds the split-brain resolver waits (default ${DEFAULT-VALUE}).")
    long stableAfter;

    @Option(names = "--cim-http-port", defaultValue = "-1", description = "Serve CIM-XML over HTTP on this port (-1: off, the default).")
    int cimHttpPort;

    @Option(names = "--cim-https-port", defaultValue = "-1", description = "Serve CIM-XML over HTTPS on this port (-1: off, the default).")
    int cimHttpsPort;

    @Option(names = "--cim-bind", defaultValue = "127.0.0.1", description = "Address the CIM server listens on (default ${DEFAULT-VALUE}).")
    String cimBind;

    @Option(names = "--cim-users", description = "CIM users file (default: STATE_DIR/cim/cim-users, created with an admin user).")
    Path cimUsers;

    @Option(names = "--cim-listener", description = "An address indication listeners may use (repeat; default: none).")
    List<String> cimListeners = List.of();

    @Override
    public Integer call() throws InterruptedException {
        HostInventory inv = topology == null ? InventoryReader.detect() : parseTopology(name, topology);
        NodeConfig cfg = new NodeConfig(name, bind, port, seeds.isEmpty() ? List.of(bind + ":" + port) : seeds, stateDir, inv,
                apiBind, apiPort, Duration.ofSeconds(stableAfter), Duration.ofSeconds(Math.max(2, stableAfter / 2)), true, dataPlane)
                .withHypervisor(hypervisor);
        io.ferryvm.cluster.cim.CimSetup.Prepared cim = cimHttpPort < 0 && cimHttpsPort < 0 ? null
                : io.ferryvm.cluster.cim.CimSetup.prepare(stateDir.resolve("cim"), cimBind, cimHttpPort, cimHttpsPort, cimUsers, cimListeners);
        FerryNode node = FerryNode.start(cim == null ? cfg : cfg.withCim(cim.config()),
                new NodeNetwork(tls(tlsKeyStore, tlsTrustStore, System.getenv(ClusterTls.PASSWORD_ENV)), migrationProxy));
        CountDownLatch stopped = new CountDownLatch(1);
        node.system().getWhenTerminated().whenComplete((d, e) -> stopped.countDown());
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "ferry-node-shutdown"));
        System.out.println("node " + name + " up at " + bind + ":" + port + (node.apiUrl() != null ? ", API " + node.apiUrl() : ""));
        if (node.cimServer() != null) {
            UpCommand.printCim(node.cimServer(), cim);
        }
        stopped.await();
        return 0;
    }

    /** TLS needs both stores and the password, or none of them. */
    static ClusterTls tls(Path keyStore, Path trustStore, String password) {
        if (keyStore == null && trustStore == null) {
            return null;
        }
        if (keyStore == null || trustStore == null) {
            throw new IllegalArgumentException("TLS needs both --tls-keystore and --tls-truststore");
        }
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException("TLS needs the stores' password in $" + ClusterTls.PASSWORD_ENV);
        }
        return new ClusterTls(keyStore, trustStore, password);
    }

    static HostInventory parseTopology(String name, String t) {
        Matcher m = TOPOLOGY.matcher(t.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("topology '" + t + "' is not NODESxCORESxTHREADS@MEMORY, e.g. 2x4x2@8G");
        }
        return HostInventory.declared(name, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), io.ferryvm.cluster.api.VmDefinition.parseSize(m.group(4)));
    }
}
