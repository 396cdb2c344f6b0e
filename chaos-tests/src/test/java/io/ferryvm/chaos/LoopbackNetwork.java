package io.ferryvm.chaos;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;

/** Every node on 127.0.0.1 with ports of its own; nothing can be cut (the machine allows no more). */
final class LoopbackNetwork implements Network {
    private final int[][] ports;

    LoopbackNetwork(int nodes) {
        ports = new int[nodes][];
        for (int i = 0; i < nodes; i++) {
            ports[i] = new int[] {freePort(), freePort()};
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new ChaosException("no free port on 127.0.0.1: " + e.getMessage(), e);
        }
    }

    @Override
    public String kind() {
        return "loopback";
    }

    @Override
    public String address(int node) {
        return "127.0.0.1";
    }

    @Override
    public int[] ports(int node) {
        return ports[node].clone();
    }

    @Override
    public List<String> command(int node, List<String> cmd) {
        return cmd;
    }

    @Override
    public String harnessAddress() {
        return "127.0.0.1";
    }

    @Override
    public boolean canPartition() {
        return false;
    }

    @Override
    public void partition(Set<Integer> a, Set<Integer> b, Cut cut) {
        throw new ChaosException("partitions need network namespaces; this run is on loopback");
    }

    @Override
    public void heal() {
        // nothing was ever cut
    }

    @Override
    public boolean cut(String fromAddress, String toAddress) {
        return false;
    }

    @Override
    public boolean canCapBandwidth() {
        return false;
    }

    @Override
    public void capBandwidth(int node, long kbitPerSecond) {
        throw new ChaosException("bandwidth caps need network namespaces; this run is on loopback");
    }

    @Override
    public void close() {
        // nothing to undo
    }
}
