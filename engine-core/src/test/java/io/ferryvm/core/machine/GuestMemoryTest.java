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
}
