package io.ferryvm.cluster.node;

import io.ferryvm.cim.CimServerConfig;
import io.ferryvm.core.HypervisorDriver;
import io.ferryvm.core.host.HostInventory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One node's settings: its host name, where it listens for cluster traffic, its seed nodes, its state
 * directory, its inventory (detected or declared), the REST port (0 = no API on this node) and the
 * timings of failure handling.
 *
 * @param seeds cluster addresses "host:port" of seed nodes (may include this node's own)
 * @param stableAfter how long the split-brain resolver waits for a stable view before downing
 * @param haRestartDelay how long after a host is removed before its HA VMs restart elsewhere
 * @param dataPlane the migration data plane: "tcp" (the migration module's NIO transport, the faster one
 *     measured here) or "pekko-tcp" (Pekko Streams TCP); every node of a cluster must use the same
 * @param cim the CIM (WBEM) server this node runs, or null for none
 * @param hypervisor what runs this node's guests: "builtin" (engine-core's own, the default) or a
 *     {@code HypervisorDriver} found by name on the class path ("qemu")
 */
public record NodeConfig(String name, String bindHost, int port, List<String> seeds, Path stateDir, HostInventory inventory,
        String apiHost, int apiPort, Duration stableAfter, Duration haRestartDelay, boolean exitJvmWhenDowned, String dataPlane,
        CimServerConfig cim, String hypervisor) {
    public static final String TCP = "tcp";
    public static final String PEKKO_TCP = "pekko-tcp";

    public NodeConfig {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("host name '" + name + "' must be 1-64 letters, digits, '.', '_' or '-'");
        }
        bindHost = bindHost == null ? "127.0.0.1" : bindHost;
        apiHost = apiHost == null ? "127.0.0.1" : apiHost;
        seeds = List.copyOf(seeds);
        if (port < 0 || port > 65535 || apiPort < 0 || apiPort > 65535) {
            throw new IllegalArgumentException("ports must be within 0..65535");
        }
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(inventory, "inventory");
        if (!inventory.hostname().equals(name)) {
            // The cluster knows a host by its node name; a detected inventory carries the OS hostname, which
            // the orchestrator's placement ledger would not find (and two nodes on one machine would share).
            inventory = new HostInventory(name, inventory.nodes(), inventory.cpus(), inventory.simulated());
        }
        stableAfter = stableAfter == null ? Duration.ofSeconds(7) : stableAfter;
        haRestartDelay = haRestartDelay == null ? Duration.ofSeconds(5) : haRestartDelay;
        dataPlane = dataPlane == null ? TCP : dataPlane;
        if (!dataPlane.equals(TCP) && !dataPlane.equals(PEKKO_TCP)) {
            throw new IllegalArgumentException("data plane '" + dataPlane + "': use " + TCP + " or " + PEKKO_TCP);
        }
        hypervisor = hypervisor == null ? HypervisorDriver.BUILTIN : hypervisor;
        if (!hypervisor.matches("[a-z0-9-]{1,32}")) {
            throw new IllegalArgumentException("hypervisor '" + hypervisor + "': a driver name such as builtin or qemu");
        }
    }

    /** A node on the default data plane that serves no CIM. */
    public NodeConfig(String name, String bindHost, int port, List<String> seeds, Path stateDir, HostInventory inventory,
            String apiHost, int apiPort, Duration stableAfter, Duration haRestartDelay, boolean exitJvmWhenDowned) {
        this(name, bindHost, port, seeds, stateDir, inventory, apiHost, apiPort, stableAfter, haRestartDelay, exitJvmWhenDowned, TCP,
                null, null);
    }

    /** A node on the given data plane that serves no CIM. */
    public NodeConfig(String name, String bindHost, int port, List<String> seeds, Path stateDir, HostInventory inventory,
            String apiHost, int apiPort, Duration stableAfter, Duration haRestartDelay, boolean exitJvmWhenDowned, String dataPlane) {
        this(name, bindHost, port, seeds, stateDir, inventory, apiHost, apiPort, stableAfter, haRestartDelay, exitJvmWhenDowned, dataPlane,
                null, null);
    }

    public NodeConfig withApi(String host, int port) {
        return new NodeConfig(name, bindHost, this.port, seeds, stateDir, inventory, host, port, stableAfter, haRestartDelay,
                exitJvmWhenDowned, dataPlane, cim, hypervisor);
    }

    public NodeConfig withTimings(Duration stable, Duration haDelay) {
        return new NodeConfig(name, bindHost, port, seeds, stateDir, inventory, apiHost, apiPort, stable, haDelay, exitJvmWhenDowned,
                dataPlane, cim, hypervisor);
    }

    public NodeConfig withCim(CimServerConfig c) {
        return new NodeConfig(name, bindHost, port, seeds, stateDir, inventory, apiHost, apiPort, stableAfter, haRestartDelay,
                exitJvmWhenDowned, dataPlane, c, hypervisor);
    }

    /** This node's guests run on the named hypervisor driver ("builtin" for engine-core's own). */
    public NodeConfig withHypervisor(String h) {
        return new NodeConfig(name, bindHost, port, seeds, stateDir, inventory, apiHost, apiPort, stableAfter, haRestartDelay,
                exitJvmWhenDowned, dataPlane, cim, h);
    }
}
