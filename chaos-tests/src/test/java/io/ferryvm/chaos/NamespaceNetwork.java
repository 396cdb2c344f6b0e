package io.ferryvm.chaos;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each node in a network namespace of its own, joined by a veth pair to a bridge in the harness's
 * namespace (which holds the bridge address, so the harness reaches every node and every node reaches the
 * harness's proxy). Cuts are nftables sets inside each node's namespace, matched on the peer's address
 * in the input and output hooks: DROP loses packets (a blackhole), RESET answers TCP with a reset. The
 * harness's own address is never cut, so it keeps observing both sides of a partition. Bandwidth caps
 * are tbf qdiscs on both ends of a node's veth (this kernel has no netem, so no delay or loss here; the
 * fault proxy adds delay to migration channels instead).
 *
 * <p>Names carry the harness's pid ("ferrychaos-PID-i", bridge alias too), so a run that was killed
 * leaves nothing the next run cannot find and remove.
 */
final class NamespaceNetwork implements Network {
    private static final String PREFIX = "ferrychaos-";
    private final long pid = ProcessHandle.current().pid();
    private final String tag = String.format(Locale.ROOT, "fc%04x", pid & 0xffff);
    private final String subnet = "10.77." + (1 + (pid % 250)) + ".";
    private final String bridge = tag + "br";
    private final int nodes;
    private final Set<String> cuts = ConcurrentHashMap.newKeySet();

    NamespaceNetwork(int nodes) {
        this.nodes = nodes;
        removeStale();
        try {
            Sh.ok("ip", "link", "add", bridge, "type", "bridge");
            Sh.ok("ip", "link", "set", bridge, "alias", PREFIX + pid);
            Sh.ok("ip", "addr", "add", subnet + "1/24", "dev", bridge);
            Sh.ok("ip", "link", "set", bridge, "up");
            for (int i = 0; i < nodes; i++) {
                addNode(i);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Why namespaces cannot be used here, or null when they can. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not root";
        }
        for (String cmd : List.of("ip", "nft", "tc")) {
            if (!Sh.available(cmd)) {
                return cmd + " is not installed";
            }
        }
        String probe = PREFIX + "probe-" + ProcessHandle.current().pid();
        Sh.Result r = Sh.run(List.of("ip", "netns", "add", probe));
        Sh.quietly("ip", "netns", "del", probe);
        return r.status() == 0 ? null : "ip netns add failed: " + r.output();
    }

    private String ns(int i) {
        return PREFIX + pid + "-" + i;
    }

    private void addNode(int i) {
        String ns = ns(i);
        String host = tag + "h" + i;
        String peer = tag + "p" + i;
        Sh.ok("ip", "netns", "add", ns);
        Sh.ok("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
        Sh.ok("ip", "link", "set", peer, "netns", ns);
        Sh.ok("ip", "-n", ns, "link", "set", peer, "name", "eth0");
        Sh.ok("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
        Sh.ok("ip", "-n", ns, "link", "set", "eth0", "up");
        Sh.ok("ip", "-n", ns, "link", "set", "lo", "up");
        Sh.ok("ip", "link", "set", host, "master", bridge);
        Sh.ok("ip", "link", "set", host, "up");
        loadTable(i);
    }

    /** The cuts of one namespace: two address sets, matched in the input and output hooks. */
    private void loadTable(int i) {
        String table = String.join("\n",
                "table inet chaos {",
                "  set dropped { type ipv4_addr; }",
                "  set refused { type ipv4_addr; }",
                "  chain cin {",
                "    type filter hook input priority 0; policy accept;",
                "    ip saddr @refused meta l4proto tcp reject with tcp reset",
                "    ip saddr @refused drop",
                "    ip saddr @dropped drop",
                "  }",
                "  chain cout {",
                "    type filter hook output priority 0; policy accept;",
                "    ip daddr @refused meta l4proto tcp reject with tcp reset",
                "    ip daddr @refused drop",
                "    ip daddr @dropped drop",
                "  }",
                "}", "");
        try {
            java.nio.file.Path f = java.nio.file.Files.createTempFile("ferry-chaos-nft", ".conf");
            try {
                java.nio.file.Files.writeString(f, table);
                Sh.ok("ip", "netns", "exec", ns(i), "nft", "-f", f.toString());
            } finally {
                java.nio.file.Files.deleteIfExists(f);
            }
        } catch (java.io.IOException e) {
            throw new ChaosException("cannot write the nftables table: " + e.getMessage(), e);
        }
    }

    private void nft(int i, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns(i), "nft"));
        cmd.addAll(List.of(args));
        Sh.ok(cmd.toArray(new String[0]));
    }

    @Override
    public String kind() {
        return "netns";
    }

    @Override
    public String address(int node) {
        return subnet + (10 + node);
    }

    @Override
    public int[] ports(int node) {
        return new int[] {2552, 8080}; // every node has an address of its own
    }

    @Override
    public List<String> command(int node, List<String> cmd) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", ns(node)));
        out.addAll(cmd);
        return out;
    }

    @Override
    public String harnessAddress() {
        return subnet + "1";
    }

    @Override
    public boolean canPartition() {
        return true;
    }

    @Override
    public synchronized void partition(Set<Integer> a, Set<Integer> b, Cut cut) {
        String set = cut == Cut.DROP ? "dropped" : "refused";
        for (int x : a) {
            for (int y : b) {
                if (x == y) {
                    continue;
                }
                nft(x, "add", "element", "inet", "chaos", set, "{ " + address(y) + " }");
                nft(y, "add", "element", "inet", "chaos", set, "{ " + address(x) + " }");
                cuts.add(address(x) + ">" + address(y));
                cuts.add(address(y) + ">" + address(x));
            }
        }
    }

    @Override
    public synchronized void heal() {
        for (int i = 0; i < nodes; i++) {
            nft(i, "flush", "set", "inet", "chaos", "dropped");
            nft(i, "flush", "set", "inet", "chaos", "refused");
        }
        cuts.clear();
    }

    @Override
    public boolean cut(String fromAddress, String toAddress) {
        return cuts.contains(fromAddress + ">" + toAddress);
    }

    @Override
    public boolean canCapBandwidth() {
        return true;
    }

    @Override
    public void capBandwidth(int node, long kbitPerSecond) {
        String host = tag + "h" + node;
        if (kbitPerSecond <= 0) {
            Sh.quietly("tc", "qdisc", "del", "dev", host, "root");
            Sh.quietly("ip", "netns", "exec", ns(node), "tc", "qdisc", "del", "dev", "eth0", "root");
            return;
        }
        String rate = kbitPerSecond + "kbit";
        Sh.ok("tc", "qdisc", "replace", "dev", host, "root", "tbf", "rate", rate, "burst", "64kbit", "latency", "500ms");
        Sh.ok("ip", "netns", "exec", ns(node), "tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", rate, "burst",
                "64kbit", "latency", "500ms");
    }

    @Override
    public void close() {
        for (int i = 0; i < nodes; i++) {
            Sh.quietly("ip", "netns", "del", ns(i));
        }
        Sh.quietly("ip", "link", "del", bridge);
    }

    /** Namespaces and bridges left by harness processes that no longer exist. */
    private static void removeStale() {
        Set<Long> dead = new HashSet<>();
        for (String line : Sh.run(List.of("ip", "netns", "list")).output().split("\n")) {
            String name = line.trim().split("\\s+")[0];
            if (name.startsWith(PREFIX)) {
                String[] parts = name.substring(PREFIX.length()).split("-");
                try {
                    long p = Long.parseLong(parts[0]);
                    if (ProcessHandle.of(p).isEmpty()) {
                        dead.add(p);
                        Sh.quietly("ip", "netns", "del", name);
                    }
                } catch (NumberFormatException ignored) {
                    // the probe's or someone else's: not ours to remove
                }
            }
        }
        String links = Sh.run(List.of("ip", "-o", "link", "show", "type", "bridge")).output();
        for (String line : links.split("\n")) {
            int at = line.indexOf("alias " + PREFIX);
            if (at < 0) {
                continue;
            }
            String[] f = line.split(":\\s+");
            try {
                long p = Long.parseLong(line.substring(at + 6 + PREFIX.length()).trim().split("\\s+")[0]);
                if (ProcessHandle.of(p).isEmpty() && f.length > 1) {
                    Sh.quietly("ip", "link", "del", f[1].split("@")[0]);
                }
            } catch (NumberFormatException ignored) {
                // not an alias we wrote
            }
        }
    }
}
