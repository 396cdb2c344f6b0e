package io.ferryvm.chaos;

import java.util.List;
import java.util.Set;

/**
 * Where the node processes of a chaos cluster live and how the harness cuts them apart: every node in a
 * network namespace of its own behind a bridge, with nftables rules for partitions and tbf for bandwidth
 * ({@link NamespaceNetwork}), or all on 127.0.0.1 where the machine allows nothing more
 * ({@link LoopbackNetwork}: no partitions, no caps).
 */
interface Network extends AutoCloseable {
    /** How a cut looks to the nodes: silently lost packets (blackhole), or refused ones (TCP reset). */
    enum Cut { DROP, RESET }

    String kind();

    /** The address node i binds for cluster traffic, its API and migration listeners. */
    String address(int node);

    /** Free ports for node i: {cluster, api}. */
    int[] ports(int node);

    /** The command line that runs a process as node i (inside its namespace). */
    List<String> command(int node, List<String> cmd);

    /** Where the harness listens so that every node reaches it (the fault proxy). */
    String harnessAddress();

    boolean canPartition();

    /** From now on no packet passes between the two groups, either way. */
    void partition(Set<Integer> a, Set<Integer> b, Cut cut);

    /** Every partition is gone. */
    void heal();

    /** True while traffic between the two addresses is cut (the proxy honours partitions too). */
    boolean cut(String fromAddress, String toAddress);

    boolean canCapBandwidth();

    /** Caps node i's traffic, each direction, at kbit/s; 0 lifts the cap. */
    void capBandwidth(int node, long kbitPerSecond);

    @Override
    void close();

    /** The best network this machine allows, as the ferry.chaos.network property asks. */
    static Network create(int nodes) {
        String kind = Chaos.networkKind();
        if (kind.equals("loopback")) {
            return new LoopbackNetwork(nodes);
        }
        String why = NamespaceNetwork.unavailable();
        if (why == null) {
            return new NamespaceNetwork(nodes);
        }
        if (kind.equals("netns")) {
            throw new ChaosException("network namespaces asked for, but " + why);
        }
        Summary.RUN.note("network: loopback (" + why + "): partition and bandwidth scenarios skipped");
        return new LoopbackNetwork(nodes);
    }
}
