package io.ferryvm.cluster.cli;

import io.ferryvm.cim.CimServer;
import io.ferryvm.cluster.cim.CimSetup;
import io.ferryvm.cluster.node.EmbeddedCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry up}: an embedded cluster of N hosts in this process, serving the API and console until stopped. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start an embedded cluster (N simulated hosts in this process on 127.0.0.1) and serve the API and web console.")
final class UpCommand implements Callable<Integer> {
    @Option(names = "--hosts", defaultValue = "3", description = "Number of hosts (default ${DEFAULT-VALUE}).")
    int hosts;

    @Option(names = "--port", defaultValue = "8080", description = "API and console port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--state-dir", description = "Where the hosts keep their VM definitions (default: ~/.ferry/up).")
    Path stateDir;

    @Option(names = "--cim-http-port", defaultValue = "5988", description = "CIM-XML over HTTP port (-1: off; default ${DEFAULT-VALUE}).")
    int cimHttpPort;

    @Option(names = "--cim-https-port", defaultValue = "5989", description = "CIM-XML over HTTPS port (-1: off; default ${DEFAULT-VALUE}).")
    int cimHttpsPort;

    @Option(names = "--cim-users", description = "CIM users file (default: STATE_DIR/cim/cim-users, created with an admin user).")
    Path cimUsers;

    @Option(names = "--cim-listener", description = "An address indication listeners may use: IP, CIDR or host, with an optional port "
            + "(repeat; default: none, so no indication subscription is accepted).")
    List<String> cimListeners = List.of();

    @Override
    public Integer call() throws InterruptedException {
        Path dir = stateDir != null ? stateDir : Path.of(System.getProperty("user.home"), ".ferry", "up");
        CimSetup.Prepared cim = cimHttpPort < 0 && cimHttpsPort < 0 ? null
                : CimSetup.prepare(dir.resolve("cim"), "127.0.0.1", cimHttpPort, cimHttpsPort, cimUsers, cimListeners);
        EmbeddedCluster cluster = EmbeddedCluster.start(hosts, dir, port, Duration.ofSeconds(7), cim == null ? null : cim.config());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cluster.close();
            stopped.countDown();
        }, "ferry-up-shutdown"));
        System.out.println("Ferry is up: " + hosts + " hosts (" + String.join(", ", cluster.nodes().stream().map(n -> n.name()).toList())
                + "), state in " + dir);
        System.out.println("  API and web console: " + cluster.apiUrl() + "/");
        System.out.println("  events:              " + cluster.apiUrl() + "/api/events");
        System.out.println("  metrics:             " + cluster.apiUrl() + "/metrics");
        CimServer server = cluster.first().cimServer();
        if (server != null) {
            printCim(server, cim);
        }
        System.out.println("  try: ferry --api " + cluster.apiUrl() + " status     (Ctrl-C stops the cluster)");
        stopped.await();
        return 0;
    }

    /** Where CIM is served and how to log in (the generated password is shown this once). */
    static void printCim(CimServer server, CimSetup.Prepared cim) {
        String login = cim.generatedPassword() != null ? "user admin, password " + cim.generatedPassword()
                + " (generated now and shown once; stored only as a salted hash in " + cim.usersFile() + ")"
                : "the users in " + cim.usersFile() + " (add one or reset a password: ferry cim-user NAME --users-file "
                        + cim.usersFile() + ")";
        System.out.println("  CIM (WBEM):          " + (server.httpUrl() != null ? server.httpUrl() + "/cimom" : "")
                + (server.httpUrl() != null && server.httpsUrl() != null ? "  " : "") + (server.httpsUrl() != null ? server.httpsUrl() + "/cimom" : ""));
        System.out.println("    namespaces root/virtualization and root/interop; log in with " + login);
        if (server.httpsUrl() != null) {
            System.out.println("    HTTPS certificate (self-signed unless configured): " + (server.certificateFile() != null
                    ? server.certificateFile() + ", " : "") + "SHA-256 " + server.certificateFingerprint());
        }
        String base = server.httpsUrl() != null ? server.httpsUrl() : server.httpUrl();
        String user = cim.generatedPassword() != null ? "admin:" + cim.generatedPassword() : "USER:PASSWORD";
        String scheme = base.substring(0, base.indexOf("://") + 3);
        System.out.println("    try: wbemcli " + (base.startsWith("https") && server.certificateFile() != null ? "-cacert "
                + server.certificateFile() + " " : "") + "ein '" + scheme + user + "@" + base.substring(scheme.length())
                + "/root/virtualization:Ferry_ComputerSystem'");
    }
}
