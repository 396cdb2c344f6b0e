package io.ferryvm.qemu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** Shared set-up: skip (saying why) without QEMU or binutils; TCG, because this machine's KVM emulates guest code. */
final class QemuTestSupport {
    static final long WALK_START = 1L << 20;
    static final long WALK_END = 40L << 20;
    static final long MEMORY = 64L << 20;

    private QemuTestSupport() {}

    static void assumeQemu() {
        assumeTrue(QemuConfig.locateBinary().toFile().canExecute(),
                "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86): QEMU driver tests skipped");
        assumeTrue(PageWalkGuest.toolsInstalled(), "as/ld (binutils) not installed: the test guest cannot be built, QEMU tests skipped");
    }

    static QemuConfig tcg(Path runDir) {
        return new QemuConfig(QemuConfig.locateBinary(), runDir, Accelerator.TCG, Duration.ofSeconds(60), null);
    }

    static VmSpec spec(String name, int vcpus, Path disk, String format) {
        return new VmSpec(UUID.randomUUID(), name, vcpus, MEMORY, new Workload.Idle(), null,
                List.of(new DiskSpec("boot", disk.toString(), 1 << 20, format, "virtio", false)), List.of(), null, "other", null);
    }
}
