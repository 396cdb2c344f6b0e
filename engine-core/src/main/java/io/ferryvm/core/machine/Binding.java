package io.ferryvm.core.machine;

import java.util.List;

/**
 * Where a VM runs on its host: the host CPUs each vCPU may use (one CPU for a dedicated vCPU, a node's
 * CPUs for a shared one; an empty list leaves it unpinned) and the memory policy.
 */
public record Binding(List<List<Integer>> vcpuCpus, MemoryPolicy memory) {
    public static final Binding NONE = new Binding(List.of(), MemoryPolicy.DEFAULT);

    public Binding {
        vcpuCpus = vcpuCpus.stream().map(List::copyOf).toList();
        java.util.Objects.requireNonNull(memory, "memory");
    }

    /** CPUs for vCPU i (empty: unpinned). */
    public List<Integer> cpusOf(int vcpu) {
        return vcpuCpus.isEmpty() ? List.of() : vcpuCpus.get(vcpu);
    }

    void checkFor(int vcpus) {
        if (!vcpuCpus.isEmpty() && vcpuCpus.size() != vcpus) {
            throw new IllegalArgumentException("binding names CPUs for " + vcpuCpus.size() + " vCPUs, the VM has " + vcpus);
        }
    }
}
