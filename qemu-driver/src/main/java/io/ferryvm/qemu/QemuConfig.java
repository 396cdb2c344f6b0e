package io.ferryvm.qemu;

import io.ferryvm.core.machine.CpuBinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a host runs QEMU: the emulator binary, the directory for each guest's sockets and logs, the
 * accelerator (AUTO: KVM when /dev/kvm is usable), the bound on every QMP answer, and the pinning seam.
 */
public record QemuConfig(Path binary, Path runDir, Accelerator accelerator, Duration qmpTimeout, CpuBinder binder) {
    public static final Path DEFAULT_BINARY = Path.of("/usr/bin/qemu-system-x86_64");

    public QemuConfig {
        Objects.requireNonNull(binary, "binary");
        Objects.requireNonNull(runDir, "runDir");
        accelerator = accelerator == null ? Accelerator.AUTO : accelerator;
        qmpTimeout = qmpTimeout == null ? Duration.ofSeconds(30) : qmpTimeout;
        binder = binder == null ? CpuBinder.forPlatform() : binder;
        if (qmpTimeout.isNegative() || qmpTimeout.isZero()) {
            throw new IllegalArgumentException("QMP timeout must be positive, got " + qmpTimeout);
        }
    }

    /** Defaults for this machine: /usr/bin/qemu-system-x86_64 (or the one on PATH), AUTO, 30 s. */
    public static QemuConfig defaults(Path runDir) {
        return new QemuConfig(locateBinary(), runDir, Accelerator.AUTO, null, null);
    }

    public QemuConfig withAccelerator(Accelerator a) {
        return new QemuConfig(binary, runDir, a, qmpTimeout, binder);
    }

    /** The emulator on this machine, or DEFAULT_BINARY when none is found (then {@link #installed()} is false). */
    public static Path locateBinary() {
        if (Files.isExecutable(DEFAULT_BINARY)) {
            return DEFAULT_BINARY;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return DEFAULT_BINARY;
    }

    public boolean installed() {
        return Files.isExecutable(binary);
    }
}
