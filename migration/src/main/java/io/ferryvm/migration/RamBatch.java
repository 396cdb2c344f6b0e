package io.ferryvm.migration;

import io.ferryvm.core.machine.GuestMemory;
import java.nio.ByteBuffer;

/**
 * The target's decoder of one RAM frame payload: decode and check every entry first, install only a
 * batch that passed completely, so a bad frame never installs a page. One per receiver thread.
 *
 * <p>Implementation notes. Raw pages are not copied while decoding: the batch remembers where each sits
 * in the payload and {@link #write} copies it from there straight into guest memory (the payload must
 * stay untouched until the batch is installed, which the receiver guarantees: it installs a frame before
 * it reads the next). LZ4 and XOR-delta pages are decoded into a direct staging buffer, since only a
 * complete decode proves them well-formed. Each page's zero test runs on bytes just touched (in cache).
 */
final class RamBatch {
    private final ByteBuffer staging = ByteBuffer.allocateDirect(Wire.MAX_BATCH_PAGES * Wire.PAGE);
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(Wire.PAGE);
    private final long[] pages = new long[Wire.MAX_BATCH_PAGES];
    private final boolean[] zero = new boolean[Wire.MAX_BATCH_PAGES];
    /** Where a raw page's bytes sit in the payload, or -1: the page is in staging slot i. */
    private final int[] rawAt = new int[Wire.MAX_BATCH_PAGES];
    private ByteBuffer payload;
    private int count;
    private CodecId codec;

    /**
     * Decodes a RAM payload for a channel of a stream at protocol version; memory supplies XOR bases and
     * the page count. Throws IllegalArgumentException naming the first problem; memory is only read.
     */
    void decode(ByteBuffer p, int version, GuestMemory memory, int channel, int channels, boolean postCopy) {
        count = 0;
        payload = null;
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
            pages[i] = page;
            rawAt[i] = -1;
            int off = i * Wire.PAGE;
            try {
                switch (id) {
                    case ZERO:
                        zero[i] = true;
                        break;
                    case RAW:
                        if (p.remaining() < Wire.PAGE) {
                            throw new IllegalArgumentException("raw page truncated: " + p.remaining() + " bytes left");
                        }
                        rawAt[i] = p.position();
                        zero[i] = isZero(p, p.position());
                        p.position(p.position() + Wire.PAGE);
                        break;
                    default:
                        if (pc.needsBase()) {
                            memory.readPage(page, staging.position(off));
                        }
                        pc.decode(p, staging, off, scratch);
                        zero[i] = isZero(staging, off);
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("page " + page + ": " + e.getMessage());
            }
        }
        if (p.hasRemaining()) {
            throw new IllegalArgumentException(p.remaining() + " bytes after the last page");
        }
        payload = p.duplicate();
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

    /** Writes entry i into memory (the payload decoded last must still be intact). */
    void write(int i, GuestMemory memory) {
        if (zero[i]) {
            memory.zeroPage(pages[i]);
        } else if (rawAt[i] >= 0) {
            memory.writePage(pages[i], payload.position(rawAt[i]));
        } else {
            memory.writePage(pages[i], staging.position(i * Wire.PAGE));
        }
    }

    /** True when the page at off in b is all zeros (absolute reads; b's position is left alone). */
    static boolean isZero(ByteBuffer b, int off) {
        // Four accumulators per 64-byte line keep the loads independent; exit at the first non-zero line.
        for (int i = off; i < off + Wire.PAGE; i += 64) {
            long x = b.getLong(i) | b.getLong(i + 8);
            long y = b.getLong(i + 16) | b.getLong(i + 24);
            long z = b.getLong(i + 32) | b.getLong(i + 40);
            long w = b.getLong(i + 48) | b.getLong(i + 56);
            if ((x | y | z | w) != 0) {
                return false;
            }
        }
        return true;
    }
}
