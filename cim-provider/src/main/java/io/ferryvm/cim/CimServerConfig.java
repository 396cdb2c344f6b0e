package io.ferryvm.cim;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a CIM server serves: where (bind address; HTTP and HTTPS ports, -1 off, 0 any free port), with
 * which identity (a PKCS#12 key store, or a self-signed certificate kept in stateDir), for which users,
 * to which indication listeners it may connect, and within which limits.
 *
 * @param stateDir where the generated certificate is kept (required when HTTPS serves without a key store)
 * @param listenerAllowList indication destinations allowed (see the README: IPs, CIDR ranges, host names)
 * @param systemName the name this CIM server gives itself (SystemName of filters and destinations)
 */
public record CimServerConfig(String host, int httpPort, int httpsPort, Path stateDir, Path keyStore, String keyStorePassword,
        List<CimUser> users, List<String> listenerAllowList, String systemName, Limits limits) {

    /**
     * Limits: request body size (larger is 413), connections at once (more are refused with 503),
     * requests per keep-alive connection (then the server closes it), idle time before a connection is
     * closed, worker threads and the queue of requests waiting for one (full: 503).
     */
    public record Limits(long maxContentLength, int maxConnections, int maxRequestsPerConnection, Duration idleTimeout,
            int workers, int queue) {
        public static final Limits DEFAULT = new Limits(4L << 20, 256, 1000, Duration.ofSeconds(60), 8, 1024);

        public Limits {
            if (maxContentLength < 1024 || maxConnections < 1 || maxRequestsPerConnection < 1 || workers < 1 || queue < 1) {
                throw new IllegalArgumentException("CIM server limits must be positive (content length at least 1 KiB)");
            }
            Objects.requireNonNull(idleTimeout, "idleTimeout");
        }
    }

    public CimServerConfig {
        host = host == null || host.isBlank() ? "127.0.0.1" : host;
        if (httpPort < -1 || httpPort > 65535 || httpsPort < -1 || httpsPort > 65535) {
            throw new IllegalArgumentException("CIM ports must be -1 (off), 0 (any free port) or 1..65535");
        }
        if (httpPort == -1 && httpsPort == -1) {
            throw new IllegalArgumentException("the CIM server needs HTTP or HTTPS");
        }
        if (httpsPort != -1 && keyStore == null && stateDir == null) {
            throw new IllegalArgumentException("HTTPS needs a key store or a state directory for the generated certificate");
        }
        users = List.copyOf(users);
        if (users.isEmpty()) {
            throw new IllegalArgumentException("the CIM server needs at least one user: every request is authenticated");
        }
        listenerAllowList = listenerAllowList == null ? List.of() : List.copyOf(listenerAllowList);
        new ListenerPolicy(listenerAllowList); // fails early on a malformed entry
        systemName = systemName == null || systemName.isBlank() ? "ferry" : systemName;
        limits = limits == null ? Limits.DEFAULT : limits;
    }

    /** Loopback HTTP and HTTPS on the given ports, the certificate kept in stateDir, default limits. */
    public static CimServerConfig loopback(int httpPort, int httpsPort, Path stateDir, List<CimUser> users) {
        return new CimServerConfig("127.0.0.1", httpPort, httpsPort, stateDir, null, null, users, List.of(), "ferry", Limits.DEFAULT);
    }

    public CimServerConfig withListenerAllowList(List<String> allowed) {
        return new CimServerConfig(host, httpPort, httpsPort, stateDir, keyStore, keyStorePassword, users, allowed, systemName, limits);
    }

    public CimServerConfig withLimits(Limits l) {
        return new CimServerConfig(host, httpPort, httpsPort, stateDir, keyStore, keyStorePassword, users, listenerAllowList, systemName, l);
    }

    public CimServerConfig withKeyStore(Path store, String password) {
        return new CimServerConfig(host, httpPort, httpsPort, stateDir, store, password, users, listenerAllowList, systemName, limits);
    }

    @Override
    public String toString() {
        return "CimServerConfig[host=" + host + ", http=" + httpPort + ", https=" + httpsPort + ", users="
                + users.stream().map(CimUser::name).toList() + ", listeners=" + listenerAllowList + ", limits=" + limits + "]";
    }
}
