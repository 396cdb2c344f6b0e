package io.ferryvm.qemu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.MemoryPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
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
    void twoGuestNumaCellsOnHostNodeZeroAreWhatTheGuestGets() {
        // Two cells of 32 MiB, one vCPU each, both bound to host node 0 (this machine has one NUMA node).
        // The walk range [1 MiB, 40 MiB) crosses from cell 0 into cell 1.
        NumaSpec two = new NumaSpec(2, List.of(new NumaSpec.GuestNode(List.of(0), 32L << 20), new NumaSpec.GuestNode(List.of(1), 32L << 20)),
                NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.SHARED, NumaSpec.ThreadPolicy.PREFER, 4, -1);
        VmSpec spec = new VmSpec(UUID.randomUUID(), "numa", 2, QemuTestSupport.MEMORY, new Workload.Idle(), two,
                List.of(new DiskSpec("boot", guest.disk().toString(), 1 << 20, "raw", "virtio", false)), List.of(), null, "other", null);
        try (QemuDriver driver = new QemuDriver(QemuTestSupport.tcg(dir.resolve("run-numa")))) {
            QemuGuest g = driver.launch(spec, new Binding(List.of(), MemoryPolicy.bind(0)));
            await().atMost(Duration.ofSeconds(60)).until(() -> g.serialOutput().contains(PageWalkGuest.BANNER + "\nB"));

            // QEMU's view of the machine: one backend per cell, each bound to host node 0 ...
            JsonNode memdevs = g.qmp().execute("query-memdev", null);
            assertEquals(2, memdevs.size(), memdevs.toString());
            for (JsonNode m : memdevs) {
                assertEquals(32L << 20, m.path("size").asLong(), m.toString());
                assertEquals("bind", m.path("policy").asText(), m.toString());
                assertEquals("[0]", m.path("host-nodes").toString(), m.toString());
            }
            // ... each vCPU in its own cell ...
            JsonNode cpus = g.qmp().execute("query-cpus-fast", null);
            assertEquals(2, cpus.size(), cpus.toString());
            for (JsonNode c : cpus) {
                assertEquals(c.path("cpu-index").asInt(), c.path("props").path("node-id").asInt(), c.toString());
            }
            // ... and the guest's NUMA topology as the monitor reports it (what QEMU puts in the guest's ACPI SRAT).
            ObjectNode hmp = QmpClient.args();
            hmp.put("command-line", "info numa");
            String info = g.qmp().execute("human-monitor-command", hmp).asText();
            assertTrue(info.startsWith("2 nodes"), info);
            assertTrue(info.contains("node 0 cpus: 0") && info.contains("node 1 cpus: 1"), info);
            assertTrue(info.contains("node 0 size: 32 MB") && info.contains("node 1 size: 32 MB"), info);

            // The guest runs across both cells: its walk over the cell boundary keeps the page rule.
            g.pause();
            g.saveMemory(QemuTestSupport.WALK_START, QemuTestSupport.WALK_END - QemuTestSupport.WALK_START, dir.resolve("numa.mem"));
            PageWalkRule.Result r = PageWalkRule.checkDump(dir.resolve("numa.mem"), guest.pages());
            assertTrue(r.ok(), r.violations().toString());
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
