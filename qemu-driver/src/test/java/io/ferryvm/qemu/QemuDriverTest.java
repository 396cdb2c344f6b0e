package io.ferryvm.qemu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.NicSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.MemoryPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real QEMU guest's lifecycle, pinning and memory binding, with state following QMP events. */
class QemuDriverTest {
    @TempDir
    static Path dir;
    static PageWalkGuest guest;

    @BeforeAll
    static void build() {
        QemuTestSupport.assumeQemu();
        guest = PageWalkGuest.build(dir.resolve("guest"), QemuTestSupport.WALK_START, QemuTestSupport.WALK_END);
    }

    @Test
    void startPauseResumeStopWithPinnedVcpusAndBoundMemory() throws Exception {
        List<Integer> cpus = CpuBinder.allowedCpusOf(ProcessHandle.current().pid(), (int) ProcessHandle.current().pid());
        int last = cpus.get(cpus.size() - 1);
        int first = cpus.get(0);
        VmSpec spec = QemuTestSupport.spec("life", 2, guest.disk(), "raw");
        spec = spec.withDevices(spec.disks(), List.of(new NicSpec("nic0", "default", "52:54:00:12:34:56", "virtio")));
        try (QemuDriver driver = new QemuDriver(QemuTestSupport.tcg(dir.resolve("run")))) {
            assertEquals("tcg", driver.accelerator());
            QemuGuest g = driver.launch(spec, new Binding(List.of(List.of(last), List.of(first)), MemoryPolicy.bind(0)));
            assertEquals(VmStatus.RUNNING, g.status());
            await().atMost(Duration.ofSeconds(60)).until(() -> g.serialOutput().contains(PageWalkGuest.BANNER + "\nB"));

            // Each vCPU thread is pinned where the placement said, as the kernel reports it.
            List<VcpuThread> threads = g.vcpuThreads();
            assertEquals(2, threads.size());
            assertEquals(List.of(last), threads.get(0).allowedCpus());
            assertEquals(List.of(first), threads.get(1).allowedCpus());
            // The guest's memory backend carries the NUMA policy (bind to node 0).
            String numaMaps = Files.readString(Path.of("/proc/" + g.pid() + "/numa_maps"));
            assertTrue(numaMaps.lines().anyMatch(l -> l.contains("bind:0") && l.contains("memfd:memory-backend-memfd")), numaMaps);

            assertEquals(VmStatus.PAUSED, driver.pause(spec.id()));
            assertEquals("paused", g.runState());
            int bs = count(g.serialOutput());
            g.saveMemory(QemuTestSupport.WALK_START, QemuTestSupport.WALK_END - QemuTestSupport.WALK_START, dir.resolve("paused.mem"));
            PageWalkRule.Result r = PageWalkRule.checkDump(dir.resolve("paused.mem"), guest.pages());
            assertTrue(r.ok(), r.violations().toString());

            assertEquals(VmStatus.RUNNING, driver.resume(spec.id()));
            await().atMost(Duration.ofSeconds(60)).until(() -> count(g.serialOutput()) > bs);

            // A pause from outside Ferry (another QMP user, or QEMU itself) shows through the STOP event.
            g.qmp().execute("stop", null);
            await().atMost(Duration.ofSeconds(10)).until(() -> g.status() == VmStatus.PAUSED);

            assertEquals(VmStatus.STOPPED, driver.stop(spec.id()));
            assertTrue(!ProcessHandle.of(g.pid()).map(ProcessHandle::isAlive).orElse(false));
        }
    }

    @Test
    void qcow2AndVmdkDisksBootAndDestroyKillsAtOnce() throws Exception {
        for (String format : List.of("qcow2", "vmdk")) {
            Path img = dir.resolve("boot." + format);
            Process p = new ProcessBuilder("qemu-img", "convert", "-f", "raw", "-O", format, guest.disk().toString(), img.toString())
                    .redirectErrorStream(true).start();
            assertEquals(0, p.waitFor(), "qemu-img convert to " + format);
            try (QemuDriver driver = new QemuDriver(QemuTestSupport.tcg(dir.resolve("run-" + format)))) {
                VmSpec spec = QemuTestSupport.spec("disk-" + format, 1, img, format);
                QemuGuest g = driver.launch(spec, Binding.NONE);
                await().atMost(Duration.ofSeconds(60)).until(() -> g.serialOutput().contains(PageWalkGuest.BANNER));
                driver.destroy(spec.id());
                assertEquals(VmStatus.STOPPED, g.status());
            }
        }
    }

    @Test
    void qemuRefusingTheSpecIsALaunchErrorWithItsMessage() {
        VmSpec spec = QemuTestSupport.spec("bad", 1, dir.resolve("no-such-disk.raw"), "raw");
        try (QemuDriver driver = new QemuDriver(QemuTestSupport.tcg(dir.resolve("run-bad")))) {
            QemuException e = org.junit.jupiter.api.Assertions.assertThrows(QemuException.class, () -> driver.launch(spec, Binding.NONE));
            assertEquals(QemuException.Kind.LAUNCH, e.kind());
            assertTrue(e.getMessage().contains("no-such-disk.raw"), e.getMessage());
        }
    }

    private static int count(String serial) {
        return (int) serial.chars().filter(c -> c == 'B').count();
    }
}
