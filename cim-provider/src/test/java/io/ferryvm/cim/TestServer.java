package io.ferryvm.cim;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.ActorSystem;

/**
 * A CIM server over an {@link InMemoryBackend} on free loopback ports, with three users: admin (write
 * everywhere), reader (read root/virtualization only) and auditor (read root/interop only). Hashes use
 * few PBKDF2 iterations so tests stay fast; production hashes use {@link PasswordHash#ITERATIONS}.
 */
final class TestServer implements AutoCloseable {
    static final String ADMIN = "admin";
    static final String PASSWORD = "s3cret-Pass";
    static final String READER = "reader";
    static final String AUDITOR = "auditor";

    final InMemoryBackend backend;
    final ActorSystem system;
    final CimServer server;

    TestServer(Path stateDir, InMemoryBackend backend, List<String> listenerAllowList, CimServerConfig.Limits limits) {
        this.backend = backend;
        this.system = ActorSystem.create("cim-test", ConfigFactory.parseString(
                "pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING").withFallback(ConfigFactory.load()));
        List<CimUser> users = List.of(
                CimUser.administrator(ADMIN, PasswordHash.hash(PASSWORD.toCharArray(), 1000)),
                new CimUser(READER, PasswordHash.hash(PASSWORD.toCharArray(), 1000), Map.of(Names.VIRTUALIZATION, CimUser.Access.READ)),
                new CimUser(AUDITOR, PasswordHash.hash(PASSWORD.toCharArray(), 1000), Map.of(Names.INTEROP, CimUser.Access.READ)));
        CimServerConfig config = CimServerConfig.loopback(0, 0, stateDir, users).withListenerAllowList(listenerAllowList)
                .withLimits(limits);
        try {
            this.server = CimServer.start(config, backend, system);
        } catch (RuntimeException e) {
            system.terminate();
            throw e;
        }
    }

    TestServer(Path stateDir, InMemoryBackend backend) {
        this(stateDir, backend, List.of("127.0.0.1"), CimServerConfig.Limits.DEFAULT);
    }

    String http() {
        return server.httpUrl();
    }

    String https() {
        return server.httpsUrl();
    }

    int httpPort() {
        return Integer.parseInt(http().substring(http().lastIndexOf(':') + 1));
    }

    @Override
    public void close() {
        server.close();
        system.terminate();
    }
}
