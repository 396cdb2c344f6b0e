package io.ferryvm.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The argv a spec becomes: options QEMU parses, user strings that cannot inject options, refusals that say why. */
class QemuCommandLineTest {
    private static final QemuCommandLine.Launch LAUNCH =
            new QemuCommandLine.Launch(Path.of("/tmp/q.sock"), Path.of("/tmp/serial.log"), Accelerator.TCG, false, true, false);

    private static VmSpec spec(List<DiskSpec> disks, NumaSpec numa) {
        return new VmSpec(UUID.randomUUID(), "vm1", 4, 256L << 20, new Workload.Idle(), numa, disks, List.of(), null, "", Map.of());
    }

    private static String joined(List<String> argv) {
        return String.join(" ", argv);
    }

    @Test
    void aCommaInADiskPathIsDoubledSoItCannotAddAnOption() {
        VmSpec s = spec(List.of(new DiskSpec("d", "/img/a,file.locking=off,x.raw", 0, "raw", "virtio", false)), NumaSpec.DEFAULT);
        String argv = joined(QemuCommandLine.build(Path.of("qemu"), s, Binding.NONE, LAUNCH));
        assertTrue(argv.contains("filename=/img/a,,file.locking=off,,x.raw,read-only=off"), argv);
    }

    @Test
    void controlCharactersAndUnknownFormatsOrBusesAreRefused() {
        for (DiskSpec d : List.of(new DiskSpec("d", "/img/a\nb.raw", 0, "raw", "virtio", false),
                new DiskSpec("d", "/img/a.vhd", 0, "vpc", "virtio", false),
                new DiskSpec("d", "/img/a.raw", 0, "raw", "floppy", false))) {
            QemuException e = assertThrows(QemuException.class,
                    () -> QemuCommandLine.build(Path.of("qemu"), spec(List.of(d), NumaSpec.DEFAULT), Binding.NONE, LAUNCH));
            assertEquals(QemuException.Kind.INVALID_SPEC, e.kind());
            assertTrue(e.getMessage().startsWith("VM vm1: "), e.getMessage());
        }
    }

    @Test
    void placementBindsTheMemoryBackendAndGuestNodesGetCells() {
        NumaSpec two = new NumaSpec(2, List.of(new NumaSpec.GuestNode(List.of(0, 2), 128L << 20), new NumaSpec.GuestNode(List.of(1, 3), 128L << 20)),
                NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.DEDICATED, NumaSpec.ThreadPolicy.PREFER, 4, -1);
        List<String> argv = QemuCommandLine.build(Path.of("qemu"), spec(List.of(), two),
                new Binding(List.of(List.of(0), List.of(1), List.of(2), List.of(3)), MemoryPolicy.bind(0, 1)), LAUNCH);
        String s = joined(argv);
        assertTrue(s.contains("memory-backend-memfd,id=ram0,size=134217728,share=on,host-nodes=0,host-nodes=1,policy=bind"), s);
        assertTrue(s.contains("-numa node,nodeid=0,cpus=0,cpus=2,memdev=ram0"), s);
        assertTrue(s.contains("-numa node,nodeid=1,cpus=1,cpus=3,memdev=ram1"), s);
        assertTrue(argv.contains("-S"), "always starts paused so vCPUs are pinned before they run");

        String plain = joined(QemuCommandLine.build(Path.of("qemu"), spec(List.of(), NumaSpec.DEFAULT), Binding.NONE,
                new QemuCommandLine.Launch(Path.of("/q"), Path.of("/s"), Accelerator.KVM, true, false, false)));
        assertTrue(plain.contains("memory-backend-ram,id=ram0,size=268435456 -machine q35,memory-backend=ram0"), plain);
        assertTrue(plain.contains("-accel kvm") && plain.endsWith("-incoming defer"), plain);

        // A preallocating migration target: every memory backend is backed before QEMU listens.
        String prealloc = joined(QemuCommandLine.build(Path.of("qemu"), spec(List.of(), two),
                new Binding(List.of(List.of(0), List.of(1), List.of(2), List.of(3)), MemoryPolicy.bind(0, 1)),
                new QemuCommandLine.Launch(Path.of("/q"), Path.of("/s"), Accelerator.TCG, true, true, true)));
        assertTrue(prealloc.contains("memory-backend-memfd,id=ram0,size=134217728,share=on,prealloc=on,host-nodes=0"), prealloc);
        assertTrue(prealloc.contains("memory-backend-memfd,id=ram1,size=134217728,share=on,prealloc=on,host-nodes=0"), prealloc);
        assertFalse(s.contains("prealloc"), "not unless asked: " + s);
    }

    @Test
    void migrationOptionsRefuseWhatTheModeCannotCarry() {
        assertThrows(IllegalArgumentException.class, () -> QemuMigrationOptions.tunnelled().withMultifd(2));
        assertThrows(IllegalArgumentException.class, () -> QemuMigrationOptions.tunnelled().withPostcopy(1));
        assertThrows(IllegalArgumentException.class, () -> QemuMigrationOptions.direct().withLz4(true));
        assertThrows(IllegalArgumentException.class, () -> QemuMigrationOptions.direct().withMaxBandwidth(-1));
        assertEquals("direct+multifd2", QemuMigrationOptions.direct().withMultifd(2).label());
    }

    @Test
    void pageWalkRuleAcceptsOneStepAndNothingElse() {
        assertTrue(PageWalkRule.check(new byte[] {5, 5, 5, 5}).ok());
        PageWalkRule.Result step = PageWalkRule.check(new byte[] {6, 6, 5, 5});
        assertTrue(step.ok());
        assertEquals(2, step.stepAt());
        assertTrue(PageWalkRule.check(new byte[] {0, 0, (byte) 255, (byte) 255}).ok(), "wraps mod 256");
        assertTrue(!PageWalkRule.check(new byte[] {6, 5, 5, 4}).ok(), "two steps: a page was lost");
        assertTrue(!PageWalkRule.check(new byte[] {5, 5, 6, 6}).ok(), "a later page ahead of an earlier one");
        assertTrue(!PageWalkRule.check(new byte[] {7, 7, 5, 5}).ok(), "a step of two");
    }
}
