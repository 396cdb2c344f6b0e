package io.ferryvm.core.machine;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few Linux calls the built-in hypervisor needs: anonymous mappings for guest memory (so NUMA policy
 * can be set before first touch), thread affinity for vCPU pinning and the mempolicy syscalls.
 *
 * <p>Implementation notes: glibc has no wrappers for mbind/get_mempolicy, so they go through syscall(2)
 * with the architecture's numbers. Node masks are {@code unsigned long[]} and {@code maxnode} is passed as
 * bits + 1 because the kernel decrements it (libnuma does the same).
 */
final class LinuxSys {
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int MADV_HUGEPAGE = 14;
    static final int MADV_POPULATE_WRITE = 23;

    static final int MPOL_DEFAULT = 0;
    static final int MPOL_PREFERRED = 1;
    static final int MPOL_BIND = 2;
    static final int MPOL_INTERLEAVE = 3;
    static final int MPOL_F_NODE = 1;
    static final int MPOL_F_ADDR = 2;
    static final int MPOL_MF_STRICT = 1;
    static final int MPOL_MF_MOVE = 2;

    /** Bits in a glibc cpu_set_t: the affinity mask size handed to the kernel. */
    static final int CPU_SET_BITS = 1024;
    static final int NODE_MASK_BITS = 1024;

    private static final boolean X86_64 = Platform.isLinux() && Platform.isIntel() && Platform.is64Bit();
    private static final boolean AARCH64 = Platform.isLinux() && Platform.isARM() && Platform.is64Bit();

    private static final long SYS_GETTID = X86_64 ? 186 : 178;
    private static final long SYS_MBIND = X86_64 ? 237 : 235;
    private static final long SYS_GET_MEMPOLICY = X86_64 ? 239 : 236;

    interface Libc extends Library {
        Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

        int munmap(Pointer addr, long length);

        int madvise(Pointer addr, long length, int advice);

        int sched_setaffinity(int pid, long cpusetsize, long[] mask);

        int sched_getaffinity(int pid, long cpusetsize, long[] mask);

        int sched_getcpu();

        long syscall(long number, Object... args);
    }

    private static final Libc LIBC = load();

    private LinuxSys() {}

    private static Libc load() {
        if (!(X86_64 || AARCH64)) {
            return null;
        }
        try {
            return Native.load("c", Libc.class);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null;
        }
    }

    /** True when the native calls are usable (Linux on x86_64 or aarch64 with JNA loaded). */
    static boolean available() {
        return LIBC != null;
    }

    static Libc libc() {
        if (LIBC == null) {
            throw new IllegalStateException("Linux native calls are not available on this platform");
        }
        return LIBC;
    }

    static int lastError() {
        return Native.getLastError();
    }

    static int gettid() {
        return (int) libc().syscall(SYS_GETTID);
    }

    static long mbind(Pointer addr, long length, int mode, long[] nodeMask, int flags) {
        return libc().syscall(SYS_MBIND, addr, length, mode, nodeMask, (long) NODE_MASK_BITS + 1, flags);
    }

    /** The node holding the page at addr (MPOL_F_NODE|MPOL_F_ADDR), or -1 with errno set. */
    static int nodeOfAddress(Pointer addr) {
        int[] node = new int[1];
        long rc = libc().syscall(SYS_GET_MEMPOLICY, node, Pointer.NULL, 0L, addr, MPOL_F_NODE | MPOL_F_ADDR);
        return rc == 0 ? node[0] : -1;
    }

    /** The policy mode governing addr (MPOL_F_ADDR), or -1 with errno set. */
    static int policyOfAddress(Pointer addr, long[] nodeMaskOut) {
        int[] mode = new int[1];
        long rc = libc().syscall(SYS_GET_MEMPOLICY, mode, nodeMaskOut, (long) NODE_MASK_BITS + 1, addr, MPOL_F_ADDR);
        return rc == 0 ? mode[0] : -1;
    }
}
