package io.ferryvm.numa;

import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * What the scheduler places: a VM's id, size, NUMA request and optional anti-affinity group (members of
 * one group never share a host; "" for none).
 */
public record VmRequest(UUID id, int vcpus, long memoryBytes, NumaSpec numa, String group) {
    public VmRequest {
        Objects.requireNonNull(id, "id");
        numa = numa == null ? NumaSpec.DEFAULT : numa;
        group = group == null ? "" : group;
        if (vcpus < 1 || vcpus > VmSpec.MAX_VCPUS) {
            throw new NumaException(NumaException.Kind.INVALID, "VM " + id + ": " + vcpus + " vCPUs outside 1.." + VmSpec.MAX_VCPUS);
        }
        if (memoryBytes < 4096 || (memoryBytes & 4095) != 0) {
            throw new NumaException(NumaException.Kind.INVALID, "VM " + id + ": memory " + memoryBytes + " bytes is not a positive multiple of 4 KiB");
        }
        if (numa.guestNodes() > vcpus) {
            throw new NumaException(NumaException.Kind.INVALID, "VM " + id + ": " + numa.guestNodes() + " guest NUMA nodes for " + vcpus + " vCPUs");
        }
        if (!numa.nodes().isEmpty()) {
            Set<Integer> seen = new HashSet<>();
            long mem = 0;
            for (NumaSpec.GuestNode n : numa.nodes()) {
                for (int v : n.vcpus()) {
                    if (v < 0 || v >= vcpus || !seen.add(v)) {
                        throw new NumaException(NumaException.Kind.INVALID, "VM " + id + ": NUMA split names vCPU " + v + " twice or out of range");
                    }
                }
                mem += n.memoryBytes();
            }
            if (seen.size() != vcpus || mem != memoryBytes) {
                throw new NumaException(NumaException.Kind.INVALID, "VM " + id + ": NUMA split covers " + seen.size() + " of " + vcpus
                        + " vCPUs and " + mem + " of " + memoryBytes + " bytes");
            }
        }
    }

    public static VmRequest of(VmSpec spec) {
        return new VmRequest(spec.id(), spec.vcpus(), spec.memoryBytes(), spec.numa(), "");
    }

    /** A request with the default NUMA policy (shared CPUs, preferred memory, scheduler-chosen nodes). */
    public static VmRequest of(UUID id, int vcpus, long memoryBytes) {
        return new VmRequest(id, vcpus, memoryBytes, NumaSpec.DEFAULT, "");
    }

    public VmRequest withNuma(NumaSpec n) {
        return new VmRequest(id, vcpus, memoryBytes, n, group);
    }

    public VmRequest withGroup(String g) {
        return new VmRequest(id, vcpus, memoryBytes, numa, g);
    }

    public boolean dedicated() {
        return numa.cpus() == NumaSpec.CpuPolicy.DEDICATED;
    }
}
