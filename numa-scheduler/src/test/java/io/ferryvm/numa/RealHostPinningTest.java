package io.ferryvm.numa;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.host.InventoryReader;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.CpuBinder;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Vcpu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * On this Linux machine, through engine-core's real Host: vCPU threads of a started VM may run only on
 * the CPUs NumaPlacer chose (the kernel's Cpus_allowed_list, and the CPU each thread last ran on), and
 * guest memory carries the requested mempolicy (get_mempolicy on the guest pages, /proc/self/numa_maps).
 */
@EnabledOnOs(OS.LINUX)
class RealHostPinningTest {
    private static final long MEM = 16L << 20;
    private static final int MPOL_PREFERRED = 1;
    private static final int MPOL_BIND = 2;
    private static final int MPOL_INTERLEAVE = 3;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private Host host;
    private NumaPlacer placer;
    private HostInventory inventory;

    @BeforeEach
    void openHost() {
        assumeTrue(CpuBinder.forPlatform() != CpuBinder.NOOP, "needs sched_setaffinity through JNA");
        inventory = InventoryReader.detect();
        assumeTrue(inventory.nodes().get(0).cpus().size() >= 2, "needs two CPUs on node 0");
        placer = new NumaPlacer(HostTopology.Reserve.NONE, 4.0);
        host = Host.open(new HostConfig("real", dir, inventory, placer, null));
    }

    @AfterEach
    void closeHost() {
        if (host != null) {
            host.close();
        }
    }

    private static VmSpec vm(String name, int vcpus, NumaSpec.MemoryMode mem, NumaSpec.CpuPolicy cpus) {
        return VmSpec.of(name, vcpus, MEM, new Workload.PageWalk(0, 0, 32.0))
                .withNuma(new NumaSpec(0, List.of(), mem, cpus, NumaSpec.ThreadPolicy.PREFER, 4, -1));
    }

    private Vm start(VmSpec spec) {
        host.define(spec);
        host.start(spec.id());
        Vm vm = host.vm(spec.id());
        // every vCPU thread runs and the guest has touched all its pages at least once
        await().atMost(WAIT).until(() -> vm.machine().vcpus().stream().allMatch(v -> v.threadId() > 0)
                && vm.machine().totalSteps() > MEM / GuestMemory.PAGE_SIZE);
        return vm;
    }

    @Test
    void pinnedVcpusRunOnlyOnTheirCpusAndMemoryHasTheRequestedPolicy() throws IOException {
        Vm ded = start(vm("ded", 1, NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.DEDICATED));
        Binding db = ded.binding();
        assertEquals(1, db.cpusOf(0).size(), "a dedicated vCPU gets one pCPU: " + db);
        assertThreadsConfined(ded);
        int node = db.memory().nodes().get(0);
        assertEquals(MPOL_BIND, ded.machine().memory().kernelPolicyOf(0));
        for (long addr = 0; addr < MEM; addr += MEM / 8) {
            assertEquals(node, ded.machine().memory().nodeOf(addr), "guest page at " + addr);
        }
        assertTrue(numaMaps().contains(" bind:" + node + " "), "numa_maps has a bind:" + node + " mapping");

        Vm sh = start(vm("sh", 1, NumaSpec.MemoryMode.PREFERRED, NumaSpec.CpuPolicy.SHARED));
        List<Integer> pool = new TreeSet<>(inventory.node(node).cpus()).stream().filter(c -> !db.cpusOf(0).contains(c)).toList();
        assertEquals(pool, sh.binding().cpusOf(0), "shared vCPUs float over the node's CPUs minus the dedicated one");
        assertThreadsConfined(sh);
        assertEquals(MPOL_PREFERRED, sh.machine().memory().kernelPolicyOf(0));

        Vm il = start(vm("il", 1, NumaSpec.MemoryMode.INTERLEAVE, NumaSpec.CpuPolicy.SHARED));
        assertEquals(MPOL_INTERLEAVE, il.machine().memory().kernelPolicyOf(0));
        assertTrue(numaMaps().contains(" interleave:" + node + " "), "numa_maps has an interleave:" + node + " mapping");
        assertThreadsConfined(il);

        // the dedicated VM leaves: the shared pool grows back and the shared VMs are re-pinned to it
        host.stop(ded.id());
        Map<UUID, Binding> rebinds = placer.pendingRebinds();
        assertEquals(java.util.Set.of(sh.id(), il.id()), rebinds.keySet());
        for (Map.Entry<UUID, Binding> e : rebinds.entrySet()) {
            host.vm(e.getKey()).rebind(e.getValue());
        }
        assertEquals(new TreeSet<>(inventory.node(node).cpus()).stream().toList(), sh.binding().cpusOf(0));
        assertThreadsConfined(sh);
        assertThreadsConfined(il);
        assertTrue(placer.pendingRebinds().isEmpty(), "nothing left to re-pin");
    }

    @Test
    void aVmThatDoesNotFitIsRefusedWithTheConstraintAndStaysDefined() {
        int cpus = inventory.cpuCount();
        VmSpec big = VmSpec.of("big", cpus + 1, MEM, new Workload.Idle())
                .withNuma(new NumaSpec(0, List.of(), NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.DEDICATED,
                        NumaSpec.ThreadPolicy.PREFER, 4, -1));
        host.define(big);
        CoreException e = assertThrows(CoreException.class, () -> host.start(big.id()));
        assertEquals(CoreException.Kind.RESOURCES, e.kind());
        assertTrue(e.getMessage().contains("DEDICATED_CPUS"), e.getMessage());
        assertEquals(VmStatus.DEFINED, host.info(big.id()).status());
        assertTrue(placer.state().placements().isEmpty(), "nothing stays claimed");
    }

    /** Each vCPU thread's kernel affinity is exactly its binding, and the CPU it last ran on is in it. */
    private static void assertThreadsConfined(Vm vm) {
        for (Vcpu v : vm.machine().vcpus()) {
            List<Integer> want = new TreeSet<>(vm.binding().cpusOf(v.index())).stream().toList();
            assertEquals(want, CpuBinder.allowedCpusOf(v.threadId()), v + " Cpus_allowed_list");
            long steps = v.steps();
            await().atMost(WAIT).until(() -> v.steps() > steps); // it ran since: its last CPU is current
            for (int i = 0; i < 20; i++) {
                int cpu = lastCpu(v.threadId());
                assertTrue(want.contains(cpu), v + " ran on CPU " + cpu + ", pinned to " + want);
            }
        }
    }

    /** Field 39 of /proc/self/task/tid/stat: the CPU the task last ran on. */
    private static int lastCpu(int tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[39 - 3]);
        } catch (IOException e) {
            throw new AssertionError("cannot read stat of task " + tid, e);
        }
    }

    private static String numaMaps() throws IOException {
        return Files.readString(Path.of("/proc/self/numa_maps"));
    }
}
