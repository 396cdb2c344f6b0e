package io.ferryvm.core.machine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * This process's page table as Linux shows it in {@code /proc/self/pagemap}: per 4 KiB virtual page, whether
 * a page frame backs it (present) or its data sits in swap (swapped).
 *
 * <p>Implementation notes. One 64-bit entry per page, in native byte order, at offset (virtual address / 4096)
 * * 8; bit 63 is "present", bit 62 "swapped" (kernel Documentation/admin-guide/mm/pagemap.rst). Both bits are
 * readable without privilege; the frame numbers, which need CAP_SYS_ADMIN, are never used. Non-present
 * entries that are not plain holes (migration entries, device-private entries) carry the swapped bit, so
 * "neither bit" means the page table holds nothing for the page. One channel serves every thread: positional
 * reads (pread) share no file position; each thread reads through its own direct buffer.
 */
final class Pagemap {
    static final long PRESENT = 1L << 63;
    static final long SWAPPED = 1L << 62;
    /** Entries read per pread: 4 KiB of entries, 16 MiB of memory. */
    private static final int BATCH = 512;

    private static final FileChannel CHANNEL = open();
    private static final ThreadLocal<ByteBuffer> BUFFERS =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BATCH * 8).order(ByteOrder.nativeOrder()));

    private Pagemap() {}

    private static FileChannel open() {
        if (!LinuxSys.available()) {
            return null;
        }
        try {
            return FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static boolean available() {
        return CHANNEL != null;
    }

    /** True when the entry shows neither a page frame nor swapped data behind the page. */
    static boolean unbacked(long entry) {
        return (entry & (PRESENT | SWAPPED)) == 0;
    }

    /**
     * Sets bit (bitOffset + i) of bits for every page i of the count pages from virtual address address
     * (page-aligned) that nothing backs; leaves the other bits as they are. False if pagemap cannot be read.
     */
    static boolean markUnbacked(long address, int count, long[] bits, int bitOffset) {
        if (CHANNEL == null) {
            return false;
        }
        ByteBuffer buf = BUFFERS.get();
        long firstEntry = (address >>> GuestMemory.PAGE_SHIFT) * 8;
        for (int done = 0; done < count;) {
            int n = Math.min(BATCH, count - done);
            buf.clear().limit(n * 8);
            long pos = firstEntry + (long) done * 8;
            try {
                while (buf.hasRemaining()) {
                    int r = CHANNEL.read(buf, pos + buf.position());
                    if (r <= 0) {
                        return false;
                    }
                }
            } catch (IOException e) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (unbacked(buf.getLong(i * 8))) {
                    int b = bitOffset + done + i;
                    bits[b >>> 6] |= 1L << b;
                }
            }
            done += n;
        }
        return true;
    }
}
