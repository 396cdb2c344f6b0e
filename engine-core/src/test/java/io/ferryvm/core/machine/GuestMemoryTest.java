package io.ferryvm.core.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.CoreException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    @Test
    void sizesFromOneMiBToBeyondTwoGiB() {
        try (GuestMemory m = GuestMemory.allocate(1L << 20)) {
            assertEquals(256, m.pageCount());
        }
        // 3 GiB: three slabs; mmap'd lazily, so only the pages touched cost memory.
        long size = 3L << 30;
        try (GuestMemory m = GuestMemory.allocate(size)) {
            long high = size - 8;
            m.putLong(high, 0x1122334455667788L);
            m.putLong((2L << 30) - 8, 42); // last long of the second slab
            m.putLong(2L << 30, 43); // first long of the third slab
            assertEquals(0x1122334455667788L, m.getLong(high));
            assertEquals(42, m.getLong((2L << 30) - 8));
            assertEquals(43, m.getLong(2L << 30));
            byte[] across = new byte[64];
            m.read((2L << 30) - 32, across, 0, 64); // a read spanning slabs
            assertEquals(42, ByteBuffer.wrap(across, 24, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
            assertEquals(43, ByteBuffer.wrap(across, 32, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
            assertEquals(m.pageCount() - 3, m.countZeroPages(0, m.pageCount()));
        }
    }

    @Test
    void badSizesAndAddressesAreRefused() {
        assertEquals(CoreException.Kind.INVALID_SPEC, assertThrows(CoreException.class, () -> GuestMemory.allocate(4096)).kind());
        assertThrows(CoreException.class, () -> GuestMemory.allocate((1L << 20) + 1));
        try (GuestMemory m = GuestMemory.allocate(1L << 20)) {
            assertThrows(IndexOutOfBoundsException.class, () -> m.getByte(1L << 20));
            assertThrows(IndexOutOfBoundsException.class, () -> m.readPage(256, new byte[4096], 0));
            assertThrows(IllegalArgumentException.class, () -> m.putLong(3, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> m.write(-1, new byte[1], 0, 1));
        }
    }

    @Test
    void zeroPagesAndDigests() {
        try (GuestMemory m = GuestMemory.allocate(4L << 20)) {
            long empty = m.digest();
            assertTrue(m.isZeroPage(10));
            m.putByte(10 * 4096 + 4095, (byte) 1); // the last byte of the page
            assertFalse(m.isZeroPage(10));
            assertNotEquals(empty, m.digest());
            m.zeroPage(10);
            assertTrue(m.isZeroPage(10));
            assertEquals(empty, m.digest());
            byte[] page = new byte[4096];
            page[100] = 7;
            m.writePage(3, page, 0);
            byte[] back = new byte[4096];
            m.readPage(3, back, 0);
            assertEquals(7, back[100]);
            assertEquals(7, m.pageView(3).get(100));
            assertThrows(java.nio.ReadOnlyBufferException.class, () -> m.pageView(3).put(0, (byte) 1));
        }
    }

    @Test
    void leasesKeepMemoryMappedAfterTheOwnerCloses() {
        GuestMemory m = GuestMemory.allocate(1L << 20);
        m.putLong(0, 5);
        GuestMemory lease = m.retain();
        m.close();
        assertTrue(m.isClosed());
        assertEquals(5, lease.getLong(0), "still mapped while leased");
        assertThrows(IllegalStateException.class, m::retain, "no new lease after close");
        lease.release();
        assertThrows(IllegalStateException.class, () -> m.getLong(0), "unmapped: an error, never a crash");
    }

    @Test
    void memoryPolicyIsAppliedBeforeFirstTouch() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.ferryvm.core.machine.LinuxSys.available(), "needs Linux mbind");
        try (GuestMemory m = GuestMemory.allocate(8L << 20, MemoryPolicy.bind(0), true)) {
            assertEquals(LinuxSys.MPOL_BIND, m.kernelPolicyOf(0) & 0xff, "the kernel reports MPOL_BIND for guest memory");
            m.putLong(0, 1);
            assertEquals(0, m.nodeOf(0), "the page sits on node 0");
        }
        try (GuestMemory m = GuestMemory.allocate(8L << 20, MemoryPolicy.interleave(0), false)) {
            assertEquals(LinuxSys.MPOL_INTERLEAVE, m.kernelPolicyOf(0) & 0xff);
        }
        CoreException e = assertThrows(CoreException.class, () -> GuestMemory.allocate(8L << 20, MemoryPolicy.bind(63), false));
        assertEquals(CoreException.Kind.NATIVE, e.kind(), "a node that does not exist is refused: " + e.getMessage());
    }

    @Test
    void untouchedPagesAreThoseNeverWrittenAndNeverThoseWithData() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Pagemap.available(), "needs /proc/self/pagemap (Linux)");
        try (GuestMemory m = GuestMemory.allocate(4L << 20)) {
            long[] bits = new long[16];
            assertTrue(m.untouchedPages(0, 1024, bits));
            for (long w : bits) {
                assertEquals(-1L, w, "fresh memory: every page untouched");
            }
            m.putByte(7L * 4096 + 100, (byte) 3); // written
            byte[] page = new byte[4096];
            page[0] = 9;
            m.writePage(300, page, 0); // written
            m.writePage(301, page, 0);
            m.zeroPage(301); // written, then zeroed: backed, so not "untouched", though it holds zeros
            assertTrue(m.untouchedPages(0, 1024, bits));
            assertFalse(isSet(bits, 7), "written page");
            assertFalse(isSet(bits, 300), "written page");
            assertFalse(isSet(bits, 301), "written then zeroed");
            assertTrue(isSet(bits, 6) && isSet(bits, 8) && isSet(bits, 299) && isSet(bits, 302) && isSet(bits, 1023), "neighbours untouched");
            // A range that does not start at page 0 is reported relative to its first page; unused bits cleared.
            long[] part = {-1L, -1L};
            assertTrue(m.untouchedPages(296, 10, part));
            assertEquals(0b11_1100_1111L, part[0], "pages 296..299 and 302..305 untouched, 300 and 301 not");
            assertEquals(-1L, part[1], "words past the range are left alone");
            // Reading (as this loop does) may map the shared zero page: such a page is no longer reported, which
            // only costs a scan. What matters is the converse, checked here: nothing reported holds data.
            for (int p = 0; p < 1024; p++) {
                if (isSet(bits, p)) {
                    assertTrue(m.isZeroPage(p), "an untouched page reads as zeros: page " + p);
                }
            }
            assertTrue(m.untouchedPages(0, 1024, bits));
            assertFalse(isSet(bits, 6), "a page that was read may be mapped (to the zero page) now");
        }
    }

    @Test
    void untouchedPagesAcrossSlabs() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Pagemap.available(), "needs /proc/self/pagemap (Linux)");
        try (GuestMemory m = GuestMemory.allocate(2L << 30)) { // two 1 GiB slabs, nothing backed
            long boundary = (1L << 30) / 4096;
            long[] bits = new long[16];
            assertTrue(m.untouchedPages(boundary - 512, 1024, bits));
            for (long w : bits) {
                assertEquals(-1L, w);
            }
            m.putLong((boundary - 1) * 4096, 1); // last page of slab 0
            m.putLong(boundary * 4096 + 8, 2); // first page of slab 1
            assertTrue(m.untouchedPages(boundary - 512, 1024, bits));
            // Slabs ask for transparent huge pages: one write may back the whole 2 MiB around it (512 pages).
            assertFalse(isSet(bits, 511), "last page of slab 0 is backed");
            assertFalse(isSet(bits, 512), "first page of slab 1 is backed");
            for (int p = 0; p < 1024; p++) {
                if (isSet(bits, p)) {
                    assertTrue(m.isZeroPage(boundary - 512 + p), "an untouched page reads as zeros");
                }
            }
            assertThrows(IndexOutOfBoundsException.class, () -> m.untouchedPages(2 * boundary - 1, 2, bits));
        }
    }

    @Test
    void aSwappedPageIsNeverTakenForAnUntouchedOne() {
        // This machine has no swap, so a swapped page cannot be provoked here; the entry rule is checked instead.
        assertTrue(Pagemap.unbacked(0L), "no frame, no swap: nothing backs the page");
        assertFalse(Pagemap.unbacked(Pagemap.PRESENT), "present");
        assertFalse(Pagemap.unbacked(Pagemap.SWAPPED | 0x1234L), "swapped out: its data is in swap");
        assertFalse(Pagemap.unbacked(Pagemap.PRESENT | Pagemap.SWAPPED), "present and swap-cached");
        assertTrue(Pagemap.unbacked(1L << 55), "soft-dirty alone does not back a page");
    }

    @Test
    void populateBacksPagesWithoutChangingThem() {
        try (GuestMemory m = GuestMemory.allocate(4L << 20)) {
            m.putLong(10L * 4096, 0x5555L);
            assertTrue(m.populate(0, 512) || !LinuxSys.available(), "MADV_POPULATE_WRITE (Linux 5.14+)");
            if (Pagemap.available()) {
                long[] bits = new long[16];
                assertTrue(m.untouchedPages(0, 1024, bits));
                for (int p = 0; p < 512; p++) {
                    assertFalse(isSet(bits, p), "populated page " + p + " is backed");
                }
                assertTrue(isSet(bits, 512) && isSet(bits, 1023), "pages past the range stay unbacked");
            }
            assertEquals(0x5555L, m.getLong(10L * 4096), "contents unchanged");
            assertEquals(1023, m.countZeroPages(0, 1024));
            assertThrows(IndexOutOfBoundsException.class, () -> m.populate(1000, 100));
        }
    }

    private static boolean isSet(long[] bits, int i) {
        return (bits[i >>> 6] & (1L << i)) != 0;
    }
}
