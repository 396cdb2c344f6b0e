package io.ferryvm.core.machine;

import io.ferryvm.core.CoreException;
import java.util.List;

/** sched_setaffinity(0, ...) from the thread itself: pid 0 is the calling task. */
final class LinuxCpuBinder implements CpuBinder {
    static final LinuxCpuBinder INSTANCE = new LinuxCpuBinder();

    private LinuxCpuBinder() {}

    @Override
    public void bindCurrentThread(List<Integer> cpus) {
        long[] mask = new long[LinuxSys.CPU_SET_BITS / 64];
        if (cpus.isEmpty()) {
            // Unpinned: every CPU the process may use (its own mask, read from the main task).
            for (int c : CpuBinder.allowedCpusOf((int) ProcessHandle.current().pid())) {
                mask[c >>> 6] |= 1L << c;
            }
        } else {
            for (int c : cpus) {
                if (c < 0 || c >= LinuxSys.CPU_SET_BITS) {
                    throw new CoreException(CoreException.Kind.INVALID_SPEC, "CPU " + c + " out of range 0.." + (LinuxSys.CPU_SET_BITS - 1));
                }
                mask[c >>> 6] |= 1L << c;
            }
        }
        int rc = LinuxSys.libc().sched_setaffinity(0, mask.length * 8L, mask);
        if (rc != 0) {
            throw new CoreException(CoreException.Kind.NATIVE,
                    "sched_setaffinity to CPUs " + cpus + " failed, errno " + LinuxSys.lastError() + " (CPU offline or outside the allowed set?)");
        }
    }

    @Override
    public void bindThread(int tid, List<Integer> cpus) {
        if (tid <= 0 || cpus.isEmpty()) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, "pinning task " + tid + " to " + cpus + ": need a tid > 0 and at least one CPU");
        }
        long[] mask = new long[LinuxSys.CPU_SET_BITS / 64];
        for (int c : cpus) {
            if (c < 0 || c >= LinuxSys.CPU_SET_BITS) {
                throw new CoreException(CoreException.Kind.INVALID_SPEC, "CPU " + c + " out of range 0.." + (LinuxSys.CPU_SET_BITS - 1));
            }
            mask[c >>> 6] |= 1L << c;
        }
        if (LinuxSys.libc().sched_setaffinity(tid, mask.length * 8L, mask) != 0) {
            throw new CoreException(CoreException.Kind.NATIVE,
                    "sched_setaffinity of task " + tid + " to CPUs " + cpus + " failed, errno " + LinuxSys.lastError()
                            + " (task gone, CPU offline, or not ours to pin?)");
        }
    }

    @Override
    public int currentThreadId() {
        return LinuxSys.gettid();
    }

    @Override
    public String toString() {
        return "CpuBinder.LINUX";
    }
}
