package io.ferryvm.chaos;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * A cluster of real Ferry node processes for one suite: the network they live in, the fault proxy their
 * migration channels go through, the observer, and the VMs the suite defined (the harness's model of what
 * must survive). Nodes can be killed and restarted on their state directories; every node lists every
 * node as a seed, so a restarted first seed rejoins the others instead of founding a second cluster.
 */
final class ChaosCluster implements AutoCloseable {
    /** A VM the suite defined, and what the harness expects of it. */
    static final class TrackedVm {
        final UUID id;
        final String name;
        final long memoryBytes;
        final boolean ha;
        /** Its host died (and it is not HA), or post-copy lost it: stopped with its definition intact is then right. */
        final AtomicBoolean mayBeStopped = new AtomicBoolean();

        TrackedVm(UUID id, String name, long memoryBytes, boolean ha) {
            this.id = id;
            this.name = name;
            this.memoryBytes = memoryBytes;
            this.ha = ha;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    final Network network;
    final FaultProxy proxy;
    final List<Node> nodes = new ArrayList<>();
    final Observer observer;
    /** Overlaps of runs already reported (by VM, hosts and starts): a later scenario does not inherit them. */
    final java.util.Set<String> reportedOverlaps = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final Path dir;
    private final Map<UUID, TrackedVm> vms = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<String> extraArgs;
    private final Map<String, String> env;
    private final Function<Node, List<String>> perNodeArgs;

    ChaosCluster(String suite, int size, Function<Node, List<String>> perNodeArgs, Map<String, String> env) {
        this.dir = Chaos.runDir().resolve(suite + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss")));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ChaosException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        if (!Files.exists(Chaos.jar())) {
            throw new ChaosException("the packaged ferry.jar is not at " + Chaos.jar() + " (mvn package of ferry-cluster first)");
        }
        this.network = Network.create(size);
        this.proxy = new FaultProxy(network.harnessAddress(), network);
        this.extraArgs = List.of("--migration-proxy", proxy.address());
        this.env = Map.copyOf(env);
        this.perNodeArgs = perNodeArgs;
        for (int i = 0; i < size; i++) {
            nodes.add(new Node(i, network, dir));
        }
        this.observer = new Observer(nodes);
        // a harness JVM that ends early (a timeout, ^C) takes its node processes and namespaces with it
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "chaos-cluster-cleanup"));
    }

    ChaosCluster(String suite, int size) {
        this(suite, size, n -> List.of(), Map.of());
    }

    List<String> seeds() {
        return nodes.stream().map(Node::seed).toList();
    }

    /** Starts every node and waits until each sees all of them up. */
    ChaosCluster start() {
        for (Node n : nodes) {
            launch(n);
        }
        awaitAllUp(Duration.ofMinutes(3));
        return this;
    }

    private final List<Path> mounts = new ArrayList<>();
    private boolean tmpfs;

    /**
     * Puts every node's state directory on a small tmpfs of its own (before the nodes start), so disk
     * faults can be injected: full (a filler file), read-only (a remount). Needs root; false where not allowed.
     */
    boolean withStateOnTmpfs() {
        if (!"root".equals(System.getProperty("user.name")) || !Sh.available("mount")) {
            return false;
        }
        for (Node n : nodes) {
            try {
                Files.createDirectories(n.stateDir);
            } catch (IOException e) {
                throw new ChaosException("cannot create " + n.stateDir, e);
            }
            Sh.Result r = Sh.run(List.of("mount", "-t", "tmpfs", "-o", "size=256m", "ferrychaos", n.stateDir.toString()));
            if (r.status() != 0) {
                Summary.RUN.note("state directories not on tmpfs (" + r.output() + "): disk scenarios skipped");
                return false;
            }
            mounts.add(n.stateDir);
        }
        tmpfs = true;
        return true;
    }

    boolean stateOnTmpfs() {
        return tmpfs;
    }

    /** Fills the node's state directory's file system to the last byte. */
    void fillDisk(Node n) {
        java.nio.ByteBuffer mib = java.nio.ByteBuffer.allocate(1 << 20);
        for (int chunk : new int[] {1 << 20, 4096, 1}) {
            Path f = n.stateDir.resolve("chaos-filler-" + chunk);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND)) {
                while (true) {
                    mib.clear().limit(chunk);
                    ch.write(mib);
                }
            } catch (IOException full) {
                // ENOSPC: what this was for
            }
        }
    }

    void freeDisk(Node n) {
        for (int chunk : new int[] {1 << 20, 4096, 1}) {
            try {
                Files.deleteIfExists(n.stateDir.resolve("chaos-filler-" + chunk));
            } catch (IOException e) {
                throw new ChaosException("cannot remove the filler in " + n.stateDir, e);
            }
        }
    }

    void readOnly(Node n, boolean ro) {
        Sh.ok("mount", "-o", "remount," + (ro ? "ro" : "rw"), n.stateDir.toString());
    }

    // ---- one cluster shared by the suites that need no special nodes ----

    private static ChaosCluster shared;
    static final String CIM_USER = "admin";
    static final String CIM_PASSWORD = "chaos-cim-password";
    /** host1's CIM-XML HTTP port in the shared cluster, -1 elsewhere. */
    int cimPort = -1;

    /**
     * Set when an invariant check found this cluster broken: what it left behind (a stray definition, a
     * stopped guest, a leaked placement) would otherwise fail every later scenario with the first one's fault.
     */
    volatile boolean broken;

    /**
     * Three nodes in namespaces (where allowed), state on tmpfs (where allowed); closed when the test session
     * ends. A cluster an earlier scenario left broken is replaced by a fresh one, so one fault fails one test.
     */
    static synchronized ChaosCluster shared() {
        if (shared != null && shared.broken) {
            System.out.println("[chaos] the shared cluster broke an invariant: starting a fresh one for what follows");
            shared.close();
            shared = null;
        }
        if (shared == null) {
            // host1 also serves CIM-XML over HTTP (HostileInputIT fuzzes it), with a users file the harness wrote
            int cimPort = LoopbackNetwork.freePort();
            Path users = Chaos.runDir().resolve("cim-users-" + UUID.randomUUID().toString().substring(0, 8));
            try {
                Files.createDirectories(users.getParent());
            } catch (IOException e) {
                throw new ChaosException("cannot create " + users.getParent() + ": " + e.getMessage(), e);
            }
            io.ferryvm.cluster.cim.CimSetup.writeUsers(users, List.of(io.ferryvm.cim.CimUser.administrator(CIM_USER,
                    io.ferryvm.cim.PasswordHash.hash(CIM_PASSWORD.toCharArray()))));
            ChaosCluster c = new ChaosCluster("shared", 3, n -> n.index != 0 ? List.of()
                    : List.of("--cim-http-port", String.valueOf(cimPort), "--cim-bind", n.address, "--cim-users", users.toString()), Map.of());
            c.cimPort = cimPort;
            try {
                c.withStateOnTmpfs();
                c.start();
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
            shared = c;
        }
        return shared;
    }

    static synchronized void closeShared() {
        if (shared != null) {
            shared.close();
            shared = null;
        }
    }

    private void launch(Node n) {
        List<String> args = new ArrayList<>(extraArgs);
        args.addAll(perNodeArgs.apply(n));
        n.start(seeds(), args, env);
    }

    /** Starts a node that died (or was killed) again on its state directory, and waits until the cluster has it back. */
    void restart(Node n) {
        if (n.alive()) {
            throw new ChaosException(n + " is still running");
        }
        long t0 = System.nanoTime();
        launch(n);
        awaitAllUp(Duration.ofMinutes(3));
        System.out.println("[chaos] " + n + " restarted and back in the cluster in " + (System.nanoTime() - t0) / 1_000_000_000L + " s");
    }

    /** Until every node runs and every node's API lists every host up. */
    void awaitAllUp(Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
                for (Node n : nodes) {
                    if (!n.alive() || hostsUp(n) != nodes.size()) {
                        return false;
                    }
                }
                return true;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            StringBuilder b = new StringBuilder("the cluster did not come up within " + atMost);
            for (Node n : nodes) {
                b.append("\n--- ").append(n).append(n.alive() ? " (running)" : " (exited " + n.exitStatus() + ")").append('\n')
                        .append(n.tail(15));
            }
            throw new ChaosException(b.toString(), e);
        }
    }

    static long hostsUp(Node via) {
        long up = 0;
        for (JsonNode h : via.api.get("/api/hosts")) {
            up += h.get("up").asBoolean() ? 1 : 0;
        }
        return up;
    }

    /** Any running node's API (the first that answers). */
    Api api() {
        for (Node n : nodes) {
            if (n.alive()) {
                return n.api;
            }
        }
        throw new ChaosException("no node is running");
    }

    Node node(String name) {
        return nodes.stream().filter(n -> n.name.equals(name)).findFirst()
                .orElseThrow(() -> new ChaosException("no node " + name));
    }

    /** The node the orchestrator singleton runs on: the oldest running member (Pekko's rule), checked against its log. */
    Node orchestratorNode() {
        Node oldest = null;
        long oldestStart = Long.MAX_VALUE;
        for (Node n : nodes) {
            if (n.alive()) {
                long started = n.startedAtMicros();
                if (started < oldestStart) {
                    oldestStart = started;
                    oldest = n;
                }
            }
        }
        if (oldest == null) {
            throw new ChaosException("no node is running");
        }
        return oldest;
    }

    // ---- VMs ----

    /** Defines and starts a VM on a host (or where the scheduler says), and tracks it. */
    TrackedVm define(String name, String memory, String workloadJson, boolean ha, String host) {
        String body = "{\"name\":\"" + name + "\",\"vcpus\":1,\"memory\":\"" + memory + "\"" + (ha ? ",\"ha\":\"RESTART\"" : "")
                + ",\"workload\":" + workloadJson + "}";
        JsonNode v = api().ok("POST", "/api/vms?start=true" + (host == null ? "" : "&host=" + host), body);
        TrackedVm t = new TrackedVm(UUID.fromString(v.get("spec").get("id").asText()), name,
                v.get("spec").get("memoryBytes").asLong(), ha);
        vms.put(t.id, t);
        return t;
    }

    /** A pagewalk guest: its memory is checkable by QEMU's rule and by replay. */
    static String pagewalk(int dirtyMiBps) {
        return "{\"program\":\"pagewalk\",\"offset\":0,\"length\":0,\"dirtyRateMiBps\":" + dirtyMiBps + "}";
    }

    static String random(int dirtyMiBps, long seed) {
        return "{\"program\":\"random\",\"dirtyRateMiBps\":" + dirtyMiBps + ",\"seed\":" + seed + "}";
    }

    List<TrackedVm> vms() {
        synchronized (vms) {
            return List.copyOf(vms.values());
        }
    }

    /** Stops and undefines a VM the suite is done with (it no longer counts in the invariants). */
    void remove(TrackedVm v) {
        api().call("POST", "/api/vms/" + v.id + "/stop", null); // refused when it is stopped already: fine
        Api.Response d = api().call("DELETE", "/api/vms/" + v.id, null);
        if (!d.ok() && d.status() != 404) {
            broken = true;
            throw new ChaosException("cannot remove " + v + ": " + d.status() + " " + d.raw());
        }
        forget(v);
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                    .until(() -> api().call("GET", "/api/vms/" + v.id, null).status() == 404);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            broken = true; // a definition the harness no longer tracks would fail the next scenario's invariants
            System.out.println("[chaos] " + v + " is still listed 30 s after its removal was accepted");
        }
    }

    /** Marks every tracked non-HA VM the node holds now as allowed to come back stopped (the node is about to die). */
    void holdersDying(Node victim) {
        JsonNode view = observer.poll(victim);
        if (view == null) {
            view = observer.lastView(victim);
        }
        if (view == null) {
            return;
        }
        for (JsonNode vm : view.get("vms")) {
            TrackedVm t = vms.get(UUID.fromString(vm.get("id").asText()));
            if (t != null && !t.ha) {
                t.mayBeStopped.set(true);
            }
        }
    }

    void clearStoppedMarks() {
        vms().forEach(v -> v.mayBeStopped.set(false));
    }

    /** Every node that died (downed by a partition, crashed) is started again; VMs it held may come back stopped. */
    void restartTheDead() {
        for (Node n : nodes) {
            if (!n.alive()) {
                holdersDying(n);
                restart(n);
            }
        }
    }

    void forget(TrackedVm v) {
        vms.remove(v.id);
    }

    /** Where the directory says the VM is (host name), if it knows it. */
    Optional<JsonNode> directoryEntry(TrackedVm v) {
        Api.Response r = api().call("GET", "/api/vms/" + v.id, null);
        return r.ok() ? Optional.of(r.body()) : Optional.empty();
    }

    /** The node that holds the VM's active copy now (from the nodes themselves), if any. */
    Optional<Node> holder(TrackedVm v) {
        for (Node n : nodes) {
            if (!n.alive()) {
                continue;
            }
            JsonNode view = observer.poll(n);
            if (view == null) {
                continue;
            }
            for (JsonNode vm : view.get("vms")) {
                String s = vm.get("status").asText();
                if (vm.get("id").asText().equals(v.id.toString()) && (s.equals("RUNNING") || s.equals("PAUSED"))) {
                    return Optional.of(n);
                }
            }
        }
        return Optional.empty();
    }

    /** Arms failpoints on a node at run time ("" disarms every one). */
    void arm(Node n, String spec) {
        n.api.ok("PUT", "/api/node/failpoints", spec);
    }

    boolean fired(Node n, String point) {
        JsonNode f = n.api.get("/api/node/failpoints").get("fired");
        for (JsonNode p : f) {
            if (p.asText().equals(point)) {
                return true;
            }
        }
        return false;
    }

    private boolean closed;

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        observer.close();
        for (Node n : nodes) {
            if (n.alive()) {
                n.kill9();
            }
        }
        proxy.close();
        network.close();
        for (Path m : mounts) {
            Sh.quietly("umount", "-l", m.toString());
        }
    }
}
