package io.ferryvm.qemu;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.HypervisorDriver;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.migration.HypervisorMigration;
import io.ferryvm.migration.Transport;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs guests as QEMU processes driven over QMP: the {@link HypervisorDriver} for real operating systems.
 * A guest starts paused, its vCPU threads are pinned to the placement's CPUs, then it runs.
 *
 * <p>Implementation notes: Ferry listens on the QMP unix socket and QEMU connects to it as a client
 * ({@code -chardev socket,path=...} without server=on), so there is nothing to poll for while QEMU starts:
 * either the connection arrives or the process exits first (its stderr then says why).
 */
public final class QemuDriver implements HypervisorDriver, HypervisorMigration {
    private final QemuConfig config;
    private final Accelerator accelerator;
    private final Map<UUID, QemuGuest> guests = new ConcurrentHashMap<>();
    private final Path sockets;
    /** QEMU processes outlive a JVM that exits without closing its driver; this hook kills them (not on SIGKILL). */
    private final Thread reaper = new Thread(() -> guests.values().forEach(g -> g.processHandle().destroyForcibly()), "qemu-reaper");

    public QemuDriver(QemuConfig config) {
        this.config = config;
        this.accelerator = config.accelerator().resolve(Path.of("/dev/kvm"));
        try {
            // Unix socket paths are limited to 107 bytes, so sockets live in a short private directory, not runDir.
            this.sockets = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "ferry-qemu",
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, "cannot create the QEMU socket directory: " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** A unix socket path for one guest (sockets are short-lived; the name says which). */
    Path socket(VmSpec spec, String what) {
        Path p = sockets.resolve(spec.id().toString().substring(0, 8) + "-" + what + ".sock");
        if (p.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
            throw new QemuException(QemuException.Kind.INVALID_SPEC, "unix socket path " + p + " is longer than 107 bytes (set java.io.tmpdir shorter)");
        }
        return p;
    }

    @Override
    public String name() {
        return "qemu";
    }

    @Override
    public String accelerator() {
        return accelerator.qemuName();
    }

    public QemuConfig config() {
        return config;
    }

    @Override
    public VmStatus start(VmSpec spec, Binding binding) {
        return launch(spec, binding).status();
    }

    /** Starts a guest, pins its vCPUs, lets it run, and returns its handle. */
    public QemuGuest launch(VmSpec spec, Binding binding) {
        QemuGuest g = spawn(spec, binding, false, false);
        g.resume();
        return g;
    }

    /**
     * Starts a migration target: QEMU waits paused with {@code -incoming defer} for a
     * {@code migrate-incoming}; vCPUs are already pinned.
     */
    public QemuGuest prepareIncoming(VmSpec spec, Binding binding) {
        return prepareIncoming(spec, binding, false);
    }

    /** As above; preallocate: QEMU backs all guest RAM before it listens (-mem-prealloc). */
    public QemuGuest prepareIncoming(VmSpec spec, Binding binding, boolean preallocate) {
        return spawn(spec, binding, true, preallocate);
    }

    // ---- HypervisorMigration: the cluster's way to QemuIncoming and QemuMigration ----

    @Override
    public HypervisorMigration.Target prepareIncoming(VmSpec spec, Binding binding, HypervisorMigration.Options options, Transport transport) {
        return QemuIncoming.prepare(this, spec, binding, qemuOptions(options), transport);
    }

    @Override
    public HypervisorMigration.Outgoing begin(UUID vm, HypervisorMigration.Options options, Transport transport) {
        QemuMigration m = QemuMigration.begin(guest(vm), qemuOptions(options), transport);
        return new HypervisorMigration.Outgoing() {
            private volatile boolean cancelled;

            @Override
            public HypervisorMigration.Report perform(HypervisorMigration.Target target) {
                long started = System.nanoTime();
                try {
                    m.attach(target);
                    return report(m.perform());
                } catch (QemuException e) {
                    QemuMigrationReport r = m.failedReport();
                    if (r == null) { // refused before the stream started (attach): nothing ran anywhere
                        target.abort();
                        r = new QemuMigrationReport(m.label(), cancelled ? "cancelled" : "failed",
                                java.time.Duration.ofNanos(System.nanoTime() - started), -1, -1, 0, 0, 0, 0, e.getMessage());
                    }
                    return report(r);
                }
            }

            @Override
            public void cancel() {
                cancelled = true;
                m.cancel();
            }

            @Override
            public HypervisorMigration.Progress progress() {
                return m.progress();
            }
        };
    }

    private static HypervisorMigration.Report report(QemuMigrationReport r) {
        return new HypervisorMigration.Report(r.mode(), r.outcome(), r.total(), r.qemuDowntimeMs(), r.downtimeMs(), r.ramBytes(),
                r.wireBytes(), r.passes(), r.failure(), r.toLogLine());
    }

    /** Ferry's generic options as QEMU's; combinations QEMU cannot do are refused with the reason. */
    static QemuMigrationOptions qemuOptions(HypervisorMigration.Options o) {
        QemuMigrationOptions q;
        try {
            q = o.mode() == HypervisorMigration.Options.Mode.DIRECT
                    ? QemuMigrationOptions.direct().withMultifd(o.parallelChannels())
                    : QemuMigrationOptions.tunnelled().withLz4(o.compress()).withTunnelRateLimit(o.tunnelRateLimit());
            q = q.withDowntimeLimit(o.downtimeLimit()).withMaxBandwidth(o.maxBandwidth()).withAutoConverge(o.autoConverge())
                    .withTimeout(o.timeout()).withPreallocate(o.preallocate());
            if (o.postcopy()) {
                q = q.withPostcopy(2);
            }
        } catch (IllegalArgumentException e) {
            throw new QemuException(QemuException.Kind.INVALID_SPEC, "QEMU migration options: " + e.getMessage());
        }
        return q;
    }

    /** The guest this driver runs under that id. */
    public QemuGuest guest(UUID id) {
        QemuGuest g = guests.get(id);
        if (g == null) {
            throw new CoreException(CoreException.Kind.NOT_FOUND, "no QEMU guest " + id + " on this host");
        }
        return g;
    }

    /** Forgets a guest that moved away (after a migration's confirm) or was stopped. */
    void forget(QemuGuest g) {
        guests.remove(g.spec().id(), g);
    }

    @Override
    public VmStatus pause(UUID vm) {
        return guest(vm).pause();
    }

    @Override
    public VmStatus resume(UUID vm) {
        return guest(vm).resume();
    }

    @Override
    public VmStatus stop(UUID vm) {
        return guest(vm).stop();
    }

    @Override
    public void destroy(UUID vm) {
        guest(vm).destroy();
    }

    @Override
    public VmStatus status(UUID vm) {
        return guest(vm).status();
    }

    @Override
    public String serialTail(UUID vm) {
        String s = guest(vm).serialOutput();
        return s.length() > 256 ? s.substring(s.length() - 256) : s;
    }

    @Override
    public void close() {
        for (QemuGuest g : List.copyOf(guests.values())) {
            g.close();
            forget(g);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException alreadyExiting) {
            // the JVM is shutting down: the hook runs anyway, with nothing left to kill
        }
        try (var s = Files.list(sockets)) {
            for (Path p : s.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(sockets);
        } catch (IOException ignored) {
            // a leftover empty directory in tmp is harmless
        }
    }

    private QemuGuest spawn(VmSpec spec, Binding binding, boolean incoming, boolean preallocate) {
        if (!config.installed()) {
            throw new QemuException(QemuException.Kind.NOT_INSTALLED, config.binary() + " is not installed (Debian: apt-get install qemu-system-x86)");
        }
        if (!binding.vcpuCpus().isEmpty() && binding.vcpuCpus().size() != spec.vcpus()) {
            throw new QemuException(QemuException.Kind.INVALID_SPEC,
                    "VM " + spec.name() + ": placement pins " + binding.vcpuCpus().size() + " vCPUs, the VM has " + spec.vcpus());
        }
        if (guests.containsKey(spec.id())) {
            throw new CoreException(CoreException.Kind.ALREADY_EXISTS, "QEMU guest " + spec.id() + " (" + spec.name() + ") already runs on this host");
        }
        Path dir = config.runDir().resolve(spec.name() + "-" + spec.id().toString().substring(0, 8) + (incoming ? "-in" : ""));
        Path sock = socket(spec, incoming ? "qmp-in" : "qmp");
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir.resolve("serial.log"));
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, "VM " + spec.name() + ": cannot prepare " + dir + ": " + e.getMessage(), e);
        }
        List<String> argv = QemuCommandLine.build(config.binary(), spec, binding,
                new QemuCommandLine.Launch(sock, dir.resolve("serial.log"), accelerator, incoming, true, preallocate));
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            Process p = launch(argv, dir.resolve("qemu.log"));
            SocketChannel ch = acceptOrExit(server, p, spec, dir);
            QmpClient qmp;
            try {
                qmp = QmpClient.open(ch, spec.name(), config.qmpTimeout());
            } catch (QemuException e) {
                // QEMU connects QMP before it opens disks, so a refused spec shows up here as a dropped connection.
                boolean exited = waitExit(p);
                p.destroyForcibly();
                if (exited) {
                    throw new QemuException(QemuException.Kind.LAUNCH, "VM " + spec.name() + ": QEMU exited with status " + p.exitValue()
                            + " while starting: " + tail(dir.resolve("qemu.log")), e);
                }
                throw e;
            }
            QemuGuest g = new QemuGuest(this, spec, p, qmp, dir, accelerator, incoming);
            try {
                pin(g, binding);
            } catch (RuntimeException e) {
                g.destroy();
                throw e;
            }
            guests.put(spec.id(), g);
            return g;
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.LAUNCH, "VM " + spec.name() + ": cannot start " + config.binary() + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(sock);
            } catch (IOException ignored) {
                // the socket file only matters until QEMU connected
            }
        }
    }

    /**
     * A QEMU process must not outlive its node: nothing would reattach to it, and the cluster may restart
     * the guest elsewhere on the same disks. The shutdown hook covers an orderly exit; for SIGKILL or a crash
     * QEMU runs under {@code setpriv --pdeathsig KILL} (util-linux), which the kernel fires when the thread
     * that forked it exits. So every QEMU is forked from one launcher thread that lives as long as the JVM,
     * never from a pool thread that may retire.
     */
    private static Process launch(List<String> argv, Path log) throws IOException {
        List<String> cmd = new java.util.ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        cmd.addAll(argv);
        try {
            return LAUNCHER.submit(() -> new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start()).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting QEMU");
        }
    }

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final java.util.concurrent.ExecutorService LAUNCHER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "qemu-launcher");
        t.setDaemon(true);
        return t;
    });

    private SocketChannel acceptOrExit(ServerSocketChannel server, Process p, VmSpec spec, Path dir) throws IOException {
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                accepted.complete(server.accept());
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        }, "qmp-accept-" + spec.name());
        t.setDaemon(true);
        t.start();
        try {
            CompletableFuture.anyOf(accepted, p.onExit()).get(config.qmpTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            p.destroyForcibly();
            throw new QemuException(QemuException.Kind.TIMEOUT, "VM " + spec.name() + ": QEMU did not connect to QMP within " + config.qmpTimeout()
                    + "; log: " + tail(dir.resolve("qemu.log")));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new QemuException(QemuException.Kind.LAUNCH, "VM " + spec.name() + ": interrupted while QEMU started");
        } catch (ExecutionException e) {
            p.destroyForcibly();
            throw new QemuException(QemuException.Kind.LAUNCH, "VM " + spec.name() + ": QMP accept failed: " + e.getCause(), e.getCause());
        }
        if (!accepted.isDone()) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new QemuException(QemuException.Kind.LAUNCH, "VM " + spec.name() + ": QEMU exited with status " + p.exitValue()
                    + " before connecting QMP: " + tail(dir.resolve("qemu.log")));
        }
        return accepted.join();
    }

    private void pin(QemuGuest g, Binding binding) {
        if (binding.vcpuCpus().isEmpty()) {
            return;
        }
        for (VcpuThread v : g.vcpuThreads()) {
            List<Integer> cpus = binding.cpusOf(v.index());
            if (!cpus.isEmpty()) {
                try {
                    config.binder().bindThread(v.tid(), cpus);
                } catch (CoreException e) {
                    throw new QemuException(QemuException.Kind.HOST, "VM " + g.name() + ": vCPU " + v.index() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private static boolean waitExit(Process p) {
        try {
            return p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static String tail(Path log) {
        try {
            String s = Files.exists(log) ? Files.readString(log).strip() : "";
            return s.isEmpty() ? "(empty)" : s.length() > 600 ? "..." + s.substring(s.length() - 600) : s;
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** ServiceLoader entry: the "qemu" driver, with its files under the host's state directory. */
    public static final class Provider implements HypervisorDriver.Provider {
        @Override
        public String name() {
            return "qemu";
        }

        @Override
        public HypervisorDriver open(io.ferryvm.core.HostConfig host) {
            return new QemuDriver(QemuConfig.defaults(host.stateDir().resolve("qemu")));
        }
    }
}
