package io.ferryvm.cluster.node;

/**
 * How a node's traffic goes, beside its addresses in {@link NodeConfig}: plain TCP or TLS with a cluster
 * certificate (Artery and migration channels alike), and an optional SOCKS5 proxy that outgoing migration
 * channels go through ("host:port"; a site's egress proxy, or a fault-injecting one in chaos runs).
 *
 * @param tls the node's cluster certificate, or null for plain TCP
 * @param migrationProxy SOCKS5 proxy for outgoing migration channels, or null to connect directly
 */
public record NodeNetwork(ClusterTls tls, String migrationProxy) {
    public static final NodeNetwork PLAIN = new NodeNetwork(null, null);
}
