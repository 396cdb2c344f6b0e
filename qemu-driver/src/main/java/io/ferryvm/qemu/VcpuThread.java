package io.ferryvm.qemu;

import java.util.List;

/** One vCPU of a QEMU guest: its index, the host thread (Linux tid) that runs it, and the CPUs the kernel lets that thread use. */
public record VcpuThread(int index, int tid, List<Integer> allowedCpus) {
    public VcpuThread {
        allowedCpus = List.copyOf(allowedCpus);
    }
}
