package io.ferryvm.core.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor;
import oshi.hardware.CentralProcessor.LogicalProcessor;

/**
 * Reads the real host: CPUs from OSHI (package, core and node per logical CPU), per-node memory,
 * huge pages and distances from sysfs, which OSHI does not have. OSHI's core id is unique only within a
 * package, so siblings are grouped by (package, core).
 */
public final class InventoryReader {
    private final Path sysNode;

    public InventoryReader(Path sysNode) {
        this.sysNode = sysNode;
    }

    public static HostInventory detect() {
        return new InventoryReader(Path.of("/sys/devices/system/node")).read(hostname(), logicalCpus());
    }

    /** One logical CPU as OSHI reports it. */
    public record LogicalCpu(int id, int packageId, int coreId, int node) {}

    static List<LogicalCpu> logicalCpus() {
        CentralProcessor cpu = new SystemInfo().getHardware().getProcessor();
        List<LogicalCpu> out = new ArrayList<>();
        for (LogicalProcessor lp : cpu.getLogicalProcessors()) {
            out.add(new LogicalCpu(lp.getProcessorNumber(), lp.getPhysicalPackageNumber(), lp.getPhysicalProcessorNumber(),
                    Math.max(0, lp.getNumaNode())));
        }
        return out;
    }

    static String hostname() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Builds the inventory from logical CPUs plus this reader's sysfs node directory (if present). */
    public HostInventory read(String hostname, List<LogicalCpu> logical) {
        Map<String, List<Integer>> byCore = new HashMap<>();
        for (LogicalCpu c : logical) {
            byCore.computeIfAbsent(c.packageId() + "/" + c.coreId(), k -> new ArrayList<>()).add(c.id());
        }
        List<HostInventory.Cpu> cpus = new ArrayList<>();
        for (LogicalCpu c : logical) {
            List<Integer> sib = byCore.get(c.packageId() + "/" + c.coreId()).stream().sorted().toList();
            cpus.add(new HostInventory.Cpu(c.id(), c.packageId(), c.coreId(), c.node(), sib));
        }
        cpus.sort(java.util.Comparator.comparingInt(HostInventory.Cpu::id));
        List<HostInventory.NumaNode> nodes = readNodes(cpus);
        return new HostInventory(hostname, nodes, cpus, false);
    }

    private List<HostInventory.NumaNode> readNodes(List<HostInventory.Cpu> cpus) {
        List<Integer> ids = new ArrayList<>();
        if (Files.isDirectory(sysNode)) {
            try (Stream<Path> s = Files.list(sysNode)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.matches("node\\d+"))
                        .map(n -> Integer.parseInt(n.substring(4))).sorted().forEach(ids::add);
            } catch (IOException e) {
                ids.clear();
            }
        }
        List<HostInventory.NumaNode> nodes = new ArrayList<>();
        if (ids.isEmpty()) {
            // No sysfs (not Linux, or a container hiding it): one node with everything.
            long total = new SystemInfo().getHardware().getMemory().getTotal();
            long avail = new SystemInfo().getHardware().getMemory().getAvailable();
            nodes.add(new HostInventory.NumaNode(0, cpus.stream().map(HostInventory.Cpu::id).toList(), total, avail, List.of(),
                    List.of(10)));
            return nodes;
        }
        for (int id : ids) {
            Path dir = sysNode.resolve("node" + id);
            List<Integer> nodeCpus = readCpuList(dir.resolve("cpulist"));
            long[] mem = readMeminfo(dir.resolve("meminfo"));
            List<Integer> dist = readDistances(dir.resolve("distance"), ids.size());
            nodes.add(new HostInventory.NumaNode(id, nodeCpus, mem[0], mem[1], readHugePages(dir.resolve("hugepages")), dist));
        }
        return nodes;
    }

    private static List<Integer> readCpuList(Path p) {
        try {
            return io.ferryvm.core.machine.CpuBinder.parseCpuList(Files.readString(p).trim());
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
    }

    /** MemTotal and MemFree of a node's meminfo ("Node 0 MemTotal:  8029064 kB"), in bytes. */
    static long[] readMeminfo(Path p) {
        long total = 0;
        long free = 0;
        try {
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 4 && f[2].equals("MemTotal:")) {
                    total = Long.parseLong(f[3]) * 1024;
                } else if (f.length >= 4 && f[2].equals("MemFree:")) {
                    free = Long.parseLong(f[3]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // leave zeros: a node without readable meminfo offers no memory
        }
        return new long[] {total, free};
    }

    private static List<Integer> readDistances(Path p, int nodes) {
        try {
            List<Integer> out = new ArrayList<>();
            for (String f : Files.readString(p).trim().split("\\s+")) {
                out.add(Integer.parseInt(f));
            }
            return out;
        } catch (IOException | NumberFormatException e) {
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                out.add(10);
            }
            return out;
        }
    }

    private static List<HostInventory.HugePages> readHugePages(Path dir) {
        List<HostInventory.HugePages> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path h : s.sorted().toList()) {
                String name = h.getFileName().toString(); // hugepages-2048kB
                if (!name.startsWith("hugepages-") || !name.endsWith("kB")) {
                    continue;
                }
                int size = Integer.parseInt(name.substring(10, name.length() - 2));
                long nr = Long.parseLong(Files.readString(h.resolve("nr_hugepages")).trim());
                long free = Long.parseLong(Files.readString(h.resolve("free_hugepages")).trim());
                out.add(new HostInventory.HugePages(size, nr, free));
            }
        } catch (IOException | NumberFormatException e) {
            return out;
        }
        return out;
    }
}
