package io.ferryvm.cluster.cli;

import io.ferryvm.cluster.node.EmbeddedCluster;
import java.nio.file.Path;
import java.time.Duration;
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

    @Override
    public Integer call() throws InterruptedException {
        Path dir = stateDir != null ? stateDir : Path.of(System.getProperty("user.home"), ".ferry", "up");
        EmbeddedCluster cluster = EmbeddedCluster.start(hosts, dir, port, Duration.ofSeconds(7));
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
        System.out.println("  try: ferry --api " + cluster.apiUrl() + " status     (Ctrl-C stops the cluster)");
        stopped.await();
        return 0;
    }
}
