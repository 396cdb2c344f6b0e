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

    /**
     * Defaults for this machine: /usr/bin/qemu-system-x86_64 (or the one on PATH), 30 s, and the accelerator
     * the host's operator chose with {@code FERRY_QEMU_ACCEL} (or {@code -Dferry.qemu.accel}): auto, kvm or
     * tcg, auto when unset (a nested or emulated /dev/kvm can be slower than TCG: the operator decides).
     */
    public static QemuConfig defaults(Path runDir) {
        String a = System.getProperty("ferry.qemu.accel", System.getenv().getOrDefault("FERRY_QEMU_ACCEL", "auto"));
        Accelerator accel = switch (a.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "", "auto" -> Accelerator.AUTO;
            case "kvm" -> Accelerator.KVM;
            case "tcg" -> Accelerator.TCG;
            default -> throw new IllegalArgumentException("FERRY_QEMU_ACCEL / ferry.qemu.accel: '" + a + "' is not auto, kvm or tcg");
        };
        return new QemuConfig(locateBinary(), runDir, accel, null, null);
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
