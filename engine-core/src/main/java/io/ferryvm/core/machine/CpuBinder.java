package io.ferryvm.core.machine;

import io.ferryvm.core.CoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pins the calling thread to host CPUs. A vCPU thread calls it on itself (Linux applies affinity per
 * task). Beware: threads started by a pinned thread inherit its mask, so nothing else is started from a
 * vCPU thread.
 */
public interface CpuBinder {
    /** Restricts the calling thread to the given CPUs; an empty list means all online CPUs. */
    void bindCurrentThread(List<Integer> cpus);

    /**
     * Restricts another task (a thread of this or another process, by Linux tid) to the given CPUs: how
     * an external hypervisor's vCPU threads (QEMU's, ids from query-cpus-fast) are pinned.
     */
    default void bindThread(int tid, List<Integer> cpus) {
        throw new CoreException(CoreException.Kind.NATIVE, this + " cannot pin task " + tid + ": no sched_setaffinity here");
    }

    /** The native thread id of the calling thread (Linux tid), or -1 where there is none. */
    int currentThreadId();

    /** Binds nothing: platforms without sched_setaffinity, or simulated hosts. */
    CpuBinder NOOP = new CpuBinder() {
        @Override
        public void bindCurrentThread(List<Integer> cpus) {}

        @Override
        public int currentThreadId() {
            return -1;
        }

        @Override
        public String toString() {
            return "CpuBinder.NOOP";
        }
    };

    /** sched_setaffinity on Linux, NOOP elsewhere. */
    static CpuBinder forPlatform() {
        return LinuxSys.available() ? LinuxCpuBinder.INSTANCE : NOOP;
    }

    /** CPUs the kernel lets task tid run on, read from /proc (how tests verify pinning). */
    static List<Integer> allowedCpusOf(int tid) {
        Path status = Path.of("/proc/self/task/" + tid + "/status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return parseCpuList(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, "cannot read " + status + ": " + e.getMessage(), e);
        }
        throw new CoreException(CoreException.Kind.IO, status + " has no Cpus_allowed_list line");
    }

    /** CPUs the kernel lets task tid of process pid run on, read from /proc/pid/task/tid/status. */
    static List<Integer> allowedCpusOf(long pid, int tid) {
        Path status = Path.of("/proc/" + pid + "/task/" + tid + "/status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return parseCpuList(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new CoreException(CoreException.Kind.IO, "cannot read " + status + ": " + e.getMessage(), e);
        }
        throw new CoreException(CoreException.Kind.IO, status + " has no Cpus_allowed_list line");
    }

    /** Parses a Linux cpu list such as "0-3,8,10-11". */
    static List<Integer> parseCpuList(String list) {
        List<Integer> out = new ArrayList<>();
        if (list.isBlank()) {
            return out;
        }
        for (String part : list.trim().split(",")) {
            int dash = part.indexOf('-');
            if (dash < 0) {
                out.add(Integer.parseInt(part.trim()));
            } else {
                int from = Integer.parseInt(part.substring(0, dash).trim());
                int to = Integer.parseInt(part.substring(dash + 1).trim());
                for (int c = from; c <= to; c++) {
                    out.add(c);
                }
            }
        }
        return out;
    }
}
