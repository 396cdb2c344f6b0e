package io.ferryvm.migration;

import io.ferryvm.core.machine.GuestMemory;
import java.nio.ByteBuffer;

/**
 * The target's decoder of one RAM frame payload: decode and check every entry into a staging buffer
 * first, install only a batch that passed completely, so a bad frame never installs a page. One per
 * receiver thread (the staging buffer is reused).
 */
final class RamBatch {
    private final byte[] staging = new byte[Wire.MAX_BATCH_PAGES * Wire.PAGE];
    private final long[] pages = new long[Wire.MAX_BATCH_PAGES];
    private final boolean[] zero = new boolean[Wire.MAX_BATCH_PAGES];
    private final byte[] scratch = new byte[Wire.PAGE];
    private int count;
    private CodecId codec;

    /**
     * Decodes a RAM payload for a channel of a stream at protocol version; memory supplies XOR bases and
     * the page count. Throws IllegalArgumentException naming the first problem; memory is only read.
     */
    void decode(ByteBuffer p, int version, GuestMemory memory, int channel, int channels, boolean postCopy) {
        count = 0;
        if (p.remaining() < 3) {
            throw new IllegalArgumentException("RAM header truncated");
        }
        int codecId = p.get() & 0xFF;
        CodecId id = CodecId.ofWire(codecId);
        if (id == null) {
            throw new IllegalArgumentException("unknown page codec " + codecId);
        }
        PageCodec pc = PageCodec.of(id);
        if (pc.sinceVersion() > version) {
            throw new IllegalArgumentException("codec " + id + " does not exist in protocol v" + version);
        }
        if (postCopy && pc.needsBase()) {
            throw new IllegalArgumentException("codec " + id + " is not used in post-copy");
        }
        int n = p.getShort() & 0xFFFF;
        if (n < 1 || n > Wire.MAX_BATCH_PAGES) {
            throw new IllegalArgumentException("RAM batch of " + n + " pages outside 1.." + Wire.MAX_BATCH_PAGES);
        }
        long pageCount = memory.pageCount();
        long prev = -1;
        for (int i = 0; i < n; i++) {
            if (p.remaining() < 4) {
                throw new IllegalArgumentException("RAM entry " + i + " truncated");
            }
            long page = p.getInt() & 0xFFFFFFFFL;
            if (page >= pageCount) {
                throw new IllegalArgumentException("page " + page + " beyond the guest's " + pageCount + " pages");
            }
            if (page <= prev) {
                throw new IllegalArgumentException("page " + page + " after " + prev + ": pages must ascend within a batch");
            }
            if (Wire.channelOf(page, channels) != channel) {
                throw new IllegalArgumentException("page " + page + " belongs to channel " + Wire.channelOf(page, channels));
            }
            prev = page;
            int off = i * Wire.PAGE;
            if (pc.needsBase()) {
                memory.readPage(page, staging, off);
            }
            try {
                pc.decode(p, staging, off, scratch);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("page " + page + ": " + e.getMessage());
            }
            pages[i] = page;
            zero[i] = id == CodecId.ZERO || isZero(staging, off);
        }
        if (p.hasRemaining()) {
            throw new IllegalArgumentException(p.remaining() + " bytes after the last page");
        }
        count = n;
        codec = id;
    }

    int count() {
        return count;
    }

    CodecId codec() {
        return codec;
    }

    long page(int i) {
        return pages[i];
    }

    boolean isZero(int i) {
        return zero[i];
    }

    /** Writes entry i into memory. */
    void write(int i, GuestMemory memory) {
        if (zero[i]) {
            memory.zeroPage(pages[i]);
        } else {
            memory.writePage(pages[i], staging, i * Wire.PAGE);
        }
    }

    static boolean isZero(byte[] b, int off) {
        for (int i = off; i < off + Wire.PAGE; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
