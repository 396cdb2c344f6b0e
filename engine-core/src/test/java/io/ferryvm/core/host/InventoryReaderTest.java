package io.ferryvm.core.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InventoryReaderTest {
    @Test
    void readsATwoNodeSysfsTree(@TempDir Path sys) throws Exception {
        write(sys.resolve("node0/cpulist"), "0-1,4-5\n");
        write(sys.resolve("node1/cpulist"), "2-3,6-7\n");
        write(sys.resolve("node0/meminfo"), "Node 0 MemTotal:        8029064 kB\nNode 0 MemFree:         1000000 kB\n");
        write(sys.resolve("node1/meminfo"), "Node 1 MemTotal:        4000000 kB\nNode 1 MemFree:         2000000 kB\n");
        write(sys.resolve("node0/distance"), "10 21\n");
        write(sys.resolve("node1/distance"), "21 10\n");
        write(sys.resolve("node1/hugepages/hugepages-2048kB/nr_hugepages"), "16\n");
        write(sys.resolve("node1/hugepages/hugepages-2048kB/free_hugepages"), "12\n");
        write(sys.resolve("online"), "0-1\n");
        List<InventoryReader.LogicalCpu> cpus = List.of(
                new InventoryReader.LogicalCpu(0, 0, 0, 0), new InventoryReader.LogicalCpu(1, 0, 1, 0),
                new InventoryReader.LogicalCpu(2, 1, 0, 1), new InventoryReader.LogicalCpu(3, 1, 1, 1),
                new InventoryReader.LogicalCpu(4, 0, 0, 0), new InventoryReader.LogicalCpu(5, 0, 1, 0),
                new InventoryReader.LogicalCpu(6, 1, 0, 1), new InventoryReader.LogicalCpu(7, 1, 1, 1));
        HostInventory inv = new InventoryReader(sys).read("fake", cpus);
        assertFalse(inv.simulated());
        assertEquals(2, inv.nodes().size());
        assertEquals(List.of(0, 1, 4, 5), inv.node(0).cpus());
        assertEquals(8029064L * 1024, inv.node(0).memoryBytes());
        assertEquals(2000000L * 1024, inv.node(1).freeMemoryBytes());
        assertEquals(List.of(21, 10), inv.node(1).distances());
        assertEquals(List.of(new HostInventory.HugePages(2048, 16, 12)), inv.node(1).hugePages());
        // core ids repeat across packages: siblings are grouped by (package, core)
        assertEquals(List.of(0, 4), inv.cpus().get(0).siblings());
        assertEquals(List.of(2, 6), inv.cpus().get(2).siblings());
    }

    @Test
    void detectsThisHost() {
        HostInventory inv = InventoryReader.detect();
        assertTrue(inv.cpuCount() >= 1);
        assertTrue(inv.nodes().size() >= 1);
        assertTrue(inv.totalMemory() > 0);
        int cpusInNodes = inv.nodes().stream().mapToInt(n -> n.cpus().size()).sum();
        assertEquals(inv.cpuCount(), cpusInNodes, "every CPU belongs to one node");
    }

    @Test
    void declaredTopologyNumbersLikeLinux() {
        HostInventory inv = HostInventory.declared("sim", 2, 4, 2, 8L << 30);
        assertEquals(16, inv.cpuCount());
        assertEquals(List.of(0, 1, 2, 3, 8, 9, 10, 11), inv.node(0).cpus());
        assertEquals(List.of(1, 9), inv.cpus().get(1).siblings());
        assertEquals(16L << 30, inv.totalMemory());
        assertEquals(List.of(21, 10), inv.node(1).distances());
        assertTrue(inv.simulated());
    }

    private static void write(Path p, String s) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, s);
    }
}
