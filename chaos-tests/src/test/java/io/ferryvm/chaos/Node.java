package io.ferryvm.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Ferry node as a real OS process started from the packaged ferry.jar ({@code ferry node}), in its
 * network namespace when there is one. It can be killed with SIGKILL and started again on the same state
 * directory (a new incarnation); every incarnation logs to a file of its own. The time the harness saw the
 * process end bounds from above when its guests stopped running (the two-copies oracle uses it).
 */
final class Node {
    final int index;
    final String name;
    final String address;
    final int port;
    final int apiPort;
    final Path stateDir;
    final Api api;
    private final Network network;
    private final Path logDir;
    private Process process;
    private java.util.concurrent.CompletableFuture<Void> exitRecorded;
    private int incarnation;
    private volatile long exitedAtMicros = -1;
    private volatile long startedAtMicros;
    private final Map<Integer, Long> deaths = new java.util.concurrent.ConcurrentHashMap<>();
    /** The harness asked for this exit (kill -9, a crash failpoint, a node downed by a partition). */
    private volatile boolean exitExpected;

    Node(int index, Network network, Path runDir) {
        this(index, "host" + (index + 1), network, network.address(index), network.ports(index), runDir);
    }

    private Node(int index, String name, Network network, String address, int[] ports, Path runDir) {
        this.index = index;
        this.name = name;
        this.network = network;
        this.address = address;
        this.port = ports[0];
        this.apiPort = ports[1];
        this.stateDir = runDir.resolve(name + "-state");
        this.logDir = runDir;
        this.api = new Api(address, apiPort);
    }

    /** A process that is no member of the cluster (an intruder): runs beside the harness, at its address. */
    static Node outsider(String name, String address, Path runDir) {
        return new Node(-1, name, null, address, new int[] {LoopbackNetwork.freePort(), LoopbackNetwork.freePort()}, runDir);
    }

    String seed() {
        return address + ":" + port;
    }

    synchronized void start(List<String> seeds, List<String> extraArgs, Map<String, String> env) {
        if (process != null && process.isAlive()) {
            throw new ChaosException(name + " is already running");
        }
        incarnation++;
        exitedAtMicros = -1;
        startedAtMicros = Observer.nowMicros();
        exitExpected = false;
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-jar", Chaos.jar().toString(), "node", "--name", name, "--bind", address,
                "--port", String.valueOf(port), "--state-dir", stateDir.toString(), "--api-port", String.valueOf(apiPort),
                "--api-bind", address, "--topology", "2x4x2@4G", "--stable-after", "3"));
        for (String s : seeds) {
            cmd.add("--seed");
            cmd.add(s);
        }
        cmd.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(network == null ? cmd : network.command(index, cmd)).redirectErrorStream(true)
                .redirectOutput(log().toFile());
        pb.environment().put("FERRY_LOG_LEVEL", "INFO");
        pb.environment().put("FERRY_FAILPOINTS_API", "on");
        pb.environment().put("FERRY_FAILPOINTS_CRASH", "halt");
        pb.environment().putAll(env);
        try {
            Files.createDirectories(stateDir);
            process = pb.start();
        } catch (IOException e) {
            throw new ChaosException("cannot start " + name + ": " + e.getMessage(), e);
        }
        int inc = incarnation;
        exitRecorded = process.onExit().thenRun(() -> {
            long t = Observer.nowMicros();
            deaths.put(inc, t);
            exitedAtMicros = t;
        });
    }

    Path log() {
        return logDir.resolve(name + "-" + incarnation + ".log");
    }

    int incarnation() {
        return incarnation;
    }

    synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    /** When the harness saw the current incarnation end (wall clock, micros), or -1 while it runs. */
    long exitedAtMicros() {
        return exitedAtMicros;
    }

    long startedAtMicros() {
        return startedAtMicros;
    }

    /** When the harness saw that incarnation end (micros), or null while it runs (or never ran). */
    Long deathOf(int incarnation) {
        return deaths.get(incarnation);
    }

    void expectExit() {
        exitExpected = true;
    }

    boolean exitExpected() {
        return exitExpected;
    }

    Integer exitStatus() {
        Process p;
        synchronized (this) {
            p = process;
        }
        return p == null || p.isAlive() ? null : p.exitValue();
    }

    /** SIGKILL, then waits until the process is gone. */
    void kill9() {
        Process p;
        synchronized (this) {
            p = process;
        }
        if (p == null) {
            return;
        }
        exitExpected = true;
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new ChaosException(name + " survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        recorded().join();
    }

    private synchronized java.util.concurrent.CompletableFuture<Void> recorded() {
        return exitRecorded;
    }

    /** Waits (bounded) for an exit the harness caused by other means (a crash failpoint, a downing). */
    boolean awaitExit(long seconds) {
        Process p;
        synchronized (this) {
            p = process;
        }
        try {
            boolean gone = p == null || p.waitFor(seconds, TimeUnit.SECONDS);
            if (gone && p != null) {
                recorded().join();
            }
            return gone;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The last lines of the current incarnation's log, for failure messages. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log());
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return name + "#" + incarnation;
    }
}
