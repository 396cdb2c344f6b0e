package io.ferryvm.core;

import io.ferryvm.core.guest.Workload;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * A VM's definition: identity, size, guest workload, NUMA request, disks, NICs and HA policy. This is
 * what a host persists and what travels with a migration; runtime state lives elsewhere.
 */
public record VmSpec(UUID id, String name, int vcpus, long memoryBytes, Workload workload, NumaSpec numa,
        List<DiskSpec> disks, List<NicSpec> nics, HaPolicy ha, String osType, Map<String, String> metadata) {

    /** What happens to the VM when its host dies: nothing (it is reported lost) or a restart elsewhere. */
    public enum HaPolicy { NONE, RESTART }

    public static final int MAX_VCPUS = 512;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public VmSpec {
        Objects.requireNonNull(id, "id");
        requireName("VM name", name);
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("VM " + name + ": " + vcpus + " vCPUs outside 1.." + MAX_VCPUS);
        }
        if (memoryBytes < (1L << 20) || memoryBytes > (1L << 40) || (memoryBytes & 4095) != 0) {
            throw new IllegalArgumentException("VM " + name + ": memory " + memoryBytes
                    + " bytes must be a multiple of 4 KiB between 1 MiB and 1 TiB");
        }
        workload = workload == null ? new Workload.Idle() : workload;
        numa = numa == null ? NumaSpec.DEFAULT : numa;
        numa.checkAgainst("VM " + name, vcpus, memoryBytes);
        disks = disks == null ? List.of() : List.copyOf(disks);
        nics = nics == null ? List.of() : List.copyOf(nics);
        requireUnique(name, "disk", disks.stream().map(DiskSpec::name).toList());
        requireUnique(name, "NIC", nics.stream().map(NicSpec::name).toList());
        ha = ha == null ? HaPolicy.NONE : ha;
        osType = osType == null ? "" : osType;
        metadata = metadata == null ? Map.of() : Map.copyOf(new TreeMap<>(metadata));
    }

    /** A VM with defaults for everything but its size and workload, and a fresh id. */
    public static VmSpec of(String name, int vcpus, long memoryBytes, Workload workload) {
        return new VmSpec(UUID.randomUUID(), name, vcpus, memoryBytes, workload, NumaSpec.DEFAULT, List.of(), List.of(),
                HaPolicy.NONE, "", Map.of());
    }

    public VmSpec withId(UUID newId) {
        return new VmSpec(newId, name, vcpus, memoryBytes, workload, numa, disks, nics, ha, osType, metadata);
    }

    public VmSpec withName(String newName) {
        return new VmSpec(id, newName, vcpus, memoryBytes, workload, numa, disks, nics, ha, osType, metadata);
    }

    public VmSpec withWorkload(Workload w) {
        return new VmSpec(id, name, vcpus, memoryBytes, w, numa, disks, nics, ha, osType, metadata);
    }

    public VmSpec withNuma(NumaSpec n) {
        return new VmSpec(id, name, vcpus, memoryBytes, workload, n, disks, nics, ha, osType, metadata);
    }

    public VmSpec withHa(HaPolicy h) {
        return new VmSpec(id, name, vcpus, memoryBytes, workload, numa, disks, nics, h, osType, metadata);
    }

    public VmSpec withSize(int newVcpus, long newMemoryBytes) {
        return new VmSpec(id, name, newVcpus, newMemoryBytes, workload, numa, disks, nics, ha, osType, metadata);
    }

    public VmSpec withDevices(List<DiskSpec> newDisks, List<NicSpec> newNics) {
        return new VmSpec(id, name, vcpus, memoryBytes, workload, numa, newDisks, newNics, ha, osType, metadata);
    }

    public VmSpec withOs(String os, Map<String, String> meta) {
        return new VmSpec(id, name, vcpus, memoryBytes, workload, numa, disks, nics, ha, os, meta);
    }

    static void requireName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name
                    + "' must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
    }

    private static void requireUnique(String vm, String what, List<String> names) {
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            if (!seen.add(n)) {
                throw new IllegalArgumentException("VM " + vm + ": " + what + " name '" + n + "' used twice");
            }
        }
    }
}
