package io.ferryvm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.CpuBinder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One running QEMU process and its QMP connection. Its status follows QMP events (STOP, RESUME, SHUTDOWN,
 * MIGRATION) and the process's exit, so it is current without polling.
 *
 * <p>Implementation notes: events arrive on the QMP reader thread and only update volatile fields; no QMP
 * command is ever issued from there (it would wait for an answer that the same thread must read).
 */
public final class QemuGuest implements AutoCloseable {
    private final VmSpec spec;
    private final Process process;
    private final QmpClient qmp;
    private final Path dir;
    private final Accelerator accelerator;
    private volatile boolean running;
    private volatile boolean migrating;
    private volatile boolean gone;
    private volatile String migrationStatus = "none";

    private final QemuDriver driver;

    QemuGuest(QemuDriver driver, VmSpec spec, Process process, QmpClient qmp, Path dir, Accelerator accelerator, boolean incoming) {
        this.driver = driver;
        this.spec = spec;
        this.process = process;
        this.qmp = qmp;
        this.dir = dir;
        this.accelerator = accelerator;
        this.migrating = incoming;
        qmp.onEvent(new QmpClient.Terminal() {
            @Override
            public void accept(QmpEvent e) {
                switch (e.name()) {
                    case "STOP" -> running = false;
                    case "RESUME" -> running = true;
                    case "SHUTDOWN" -> gone = true;
                    case "MIGRATION" -> {
                        migrationStatus = e.data().path("status").asText("");
                        migrating = switch (migrationStatus) {
                            case "completed", "failed", "cancelled", "none" -> false;
                            default -> true;
                        };
                    }
                    default -> { }
                }
            }

            @Override
            public void closed(QemuException why) {
                gone = true;
            }
        });
        process.onExit().thenRun(() -> {
            gone = true;
            qmp.close();
        });
    }

    public VmSpec spec() {
        return spec;
    }

    public String name() {
        return spec.name();
    }

    /** The accelerator this guest runs on ("kvm" or "tcg"). */
    public Accelerator accelerator() {
        return accelerator;
    }

    public long pid() {
        return process.pid();
    }

    ProcessHandle processHandle() {
        return process.toHandle();
    }

    /** Ferry's view, from events: STOPPED once QEMU is gone, MIGRATING while a migration is under way. */
    public VmStatus status() {
        if (gone || !process.isAlive()) {
            return VmStatus.STOPPED;
        }
        if (migrating) {
            return VmStatus.MIGRATING;
        }
        return running ? VmStatus.RUNNING : VmStatus.PAUSED;
    }

    /** The last MIGRATION event's status ("none" before any). */
    public String migrationStatus() {
        return migrationStatus;
    }

    /** QEMU's own run state from query-status ("running", "paused", "postmigrate", "inmigrate", ...). */
    public String runState() {
        return qmp.execute("query-status", null).path("status").asText();
    }

    public QmpClient qmp() {
        return qmp;
    }

    /** Stops the vCPUs; memory and devices stay. */
    public VmStatus pause() {
        qmp.execute("stop", null);
        running = false;
        return status();
    }

    /** Starts or restarts the vCPUs. */
    public VmStatus resume() {
        qmp.execute("cont", null);
        running = true;
        return status();
    }

    /**
     * Powers the guest off: QEMU quits cleanly (block devices flushed and closed). Guests here need not
     * speak ACPI, so this does not ask the guest first. The driver forgets the guest (as after destroy).
     */
    public VmStatus stop() {
        if (!gone && process.isAlive()) {
            try {
                qmp.execute("quit", null);
            } catch (QemuException e) {
                if (e.kind() != QemuException.Kind.DISCONNECTED) {
                    throw e;
                }
                // quit raced QEMU's exit closing the socket: the guest is off either way
            }
            waitForExit(Duration.ofSeconds(30));
        }
        driver.forget(this);
        return status();
    }

    /** Kills QEMU at once (SIGKILL) and waits for the process to be reaped. */
    public void destroy() {
        process.destroyForcibly();
        waitForExit(Duration.ofSeconds(30));
        qmp.close();
        driver.forget(this);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            destroy();
        }
    }

    /** The vCPU threads from query-cpus-fast, with each one's allowed CPUs read from /proc. */
    public List<VcpuThread> vcpuThreads() {
        List<VcpuThread> out = new ArrayList<>();
        for (JsonNode c : qmp.execute("query-cpus-fast", null)) {
            int tid = c.path("thread-id").asInt(-1);
            if (tid <= 0) {
                throw new QemuException(QemuException.Kind.PROTOCOL, name() + ": query-cpus-fast gave no thread-id: " + c);
            }
            out.add(new VcpuThread(c.path("cpu-index").asInt(), tid, CpuBinder.allowedCpusOf(process.pid(), tid)));
        }
        return List.copyOf(out);
    }

    /** Everything the guest wrote to its serial port so far. */
    public String serialOutput() {
        try {
            Path log = serialLog();
            return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new QemuException(QemuException.Kind.IO, name() + ": cannot read serial log: " + e.getMessage(), e);
        }
    }

    public Path serialLog() {
        return dir.resolve("serial.log");
    }

    /** QEMU's own stderr (its warnings and errors). */
    public Path qemuLog() {
        return dir.resolve("qemu.log");
    }

    /** A unix socket path for this guest (short, in the driver's private directory). */
    Path socket(String what) {
        return driver.socket(spec, what);
    }

    public Path directory() {
        return dir;
    }

    /** Copies size bytes of guest-physical memory from addr into a file (QMP pmemsave); the guest should be paused. */
    public void saveMemory(long addr, long size, Path file) {
        var args = QmpClient.args();
        args.put("val", addr);
        args.put("size", size);
        args.put("filename", file.toAbsolutePath().toString());
        qmp.execute("pmemsave", args, Duration.ofMinutes(2));
    }

    private void waitForExit(Duration bound) {
        try {
            if (!process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new QemuException(QemuException.Kind.TIMEOUT, name() + ": QEMU pid " + process.pid() + " still alive after " + bound);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException(QemuException.Kind.TIMEOUT, name() + ": interrupted waiting for QEMU to exit");
        }
        gone = true;
    }
}
