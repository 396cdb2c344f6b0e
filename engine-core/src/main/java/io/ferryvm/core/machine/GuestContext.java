package io.ferryvm.core.machine;

import io.ferryvm.core.device.serial.SerialDevice;
import java.nio.ByteBuffer;

/**
 * A vCPU's window on its machine: guest memory access (marking the vCPU's own dirty bitmap after each
 * write), the serial port, and post-copy page faults. Only the owning vCPU thread uses it.
 */
public final class GuestContext {
    private final GuestMemory memory;
    private final PageTracker tracker;
    private final SerialDevice serial;
    private final int vcpuIndex;
    private final int vcpuCount;
    // Set by a task on the vCPU thread between batches: plain field, may be hoisted within a batch.
    private MissingPages missing;
    // Owner-thread count of page writes; the vCPU publishes it after each batch (the console's dirty rate).
    private long pageWrites;

    GuestContext(GuestMemory memory, PageTracker tracker, SerialDevice serial, int vcpuIndex, int vcpuCount) {
        this.memory = memory;
        this.tracker = tracker;
        this.serial = serial;
        this.vcpuIndex = vcpuIndex;
        this.vcpuCount = vcpuCount;
    }

    public int vcpuIndex() {
        return vcpuIndex;
    }

    public int vcpuCount() {
        return vcpuCount;
    }

    public long memorySize() {
        return memory.size();
    }

    long pageWrites() {
        return pageWrites;
    }

    void setMissing(MissingPages m) {
        this.missing = m;
    }

    private void fault(long addr) {
        MissingPages m = missing;
        if (m != null) {
            m.awaitPresent(addr >>> GuestMemory.PAGE_SHIFT);
        }
    }

    public byte getByte(long addr) {
        fault(addr);
        return memory.slab(addr).get(GuestMemory.offset(addr));
    }

    public void putByte(long addr, byte value) {
        fault(addr);
        memory.slab(addr).put(GuestMemory.offset(addr), value);
        tracker.mark(addr >>> GuestMemory.PAGE_SHIFT);
        pageWrites++;
    }

    /** Adds one (mod 256) to the byte at addr: the pagewalk guest's instruction. */
    public void incrementByte(long addr) {
        fault(addr);
        ByteBuffer s = memory.slab(addr);
        int o = GuestMemory.offset(addr);
        s.put(o, (byte) (s.get(o) + 1));
        tracker.mark(addr >>> GuestMemory.PAGE_SHIFT);
        pageWrites++;
    }

    /** Little-endian long at an 8-byte-aligned address. */
    public long getLong(long addr) {
        fault(addr);
        return memory.slab(addr).getLong(GuestMemory.offset(addr));
    }

    /** Little-endian long at an 8-byte-aligned address (never spans pages). */
    public void putLong(long addr, long value) {
        fault(addr);
        memory.slab(addr).putLong(GuestMemory.offset(addr), value);
        tracker.mark(addr >>> GuestMemory.PAGE_SHIFT);
        pageWrites++;
    }

    public void serialOut(byte b) {
        serial.write(b);
    }
}
