package io.ferryvm.cluster.cim;

import io.ferryvm.cim.CimServer;
import io.ferryvm.cim.CimServerConfig;
import io.ferryvm.cluster.api.ClusterApi;

/** Starts a node's CIM server over its cluster API (the node's actor system runs the HTTP server). */
public final class CimServing {
    private CimServing() {}

    public static CimServer start(CimServerConfig config, ClusterApi api) {
        return CimServer.start(config, new ClusterCimBackend(api), api.system());
    }
}
