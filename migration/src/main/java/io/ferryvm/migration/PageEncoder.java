package io.ferryvm.migration;

import io.ferryvm.core.machine.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * One channel's page encoder: picks a codec per page and collects pages into one open batch per codec,
 * each flushed as a RAM frame when full (or when the caller flushes at an iteration boundary).
 *
 * <p>Implementation notes. Per page: a zero page costs a scan and 4 bytes; otherwise the page is copied
 * once out of guest memory (the guest may write it meanwhile: what is sent is that copy, and a later
 * write re-dirties the page), then XOR-delta against the cached last-sent copy when there is one,
 * else LZ4, else raw. LZ4 output must be smaller than the page or the page goes raw. After 64
 * incompressible pages in a row only every 16th page is tried until one shrinks: random data then
 * costs almost no compression time. Only the owning channel's thread uses an encoder.
 */
final class PageEncoder {
    /** Receives one finished RAM frame payload. */
    @FunctionalInterface
    interface Sink {
        void frame(ByteBuffer payload) throws IOException;
    }

    private static final LZ4Compressor LZ4 = LZ4Factory.fastestInstance().fastCompressor();
    private static final int ENTRY_MAX = 4 + 2 + Wire.PAGE;
    private static final int STREAK = 64;
    private static final int SKIP = 16;

    private final GuestMemory memory;
    private final boolean lz4;
    private final XorCache cache;
    private final Sink sink;
    private final ByteBuffer[] batches = new ByteBuffer[CodecId.values().length];
    private final int[] counts = new int[CodecId.values().length];
    private final long[] pagesByCodec = new long[CodecId.values().length];
    private final byte[] page = new byte[Wire.PAGE];
    private final byte[] delta = new byte[Wire.PAGE];
    private final byte[] packed = new byte[LZ4.maxCompressedLength(Wire.PAGE)];
    private int incompressible;
    private int skipped;

    PageEncoder(GuestMemory memory, Compression compression, long xorCacheBytes, Sink sink) {
        this.memory = memory;
        this.lz4 = compression != Compression.NONE;
        this.cache = compression == Compression.XOR_LZ4 ? new XorCache(xorCacheBytes) : null;
        this.sink = sink;
        for (CodecId c : CodecId.values()) {
            ByteBuffer b = ByteBuffer.allocate(Wire.MAX_RAM_BYTES);
            b.position(3);
            batches[c.ordinal()] = b;
        }
    }

    /**
     * Encodes page p into its batch. cacheable: the page was re-dirtied, worth keeping for XOR-delta;
     * xorAllowed: the codec may be used now (not in post-copy, not on a v1 stream).
     */
    CodecId encode(long p, boolean cacheable, boolean xorAllowed) throws IOException {
        if (memory.isZeroPage(p)) {
            if (cache != null) {
                cache.remove(p);
            }
            ByteBuffer b = room(CodecId.ZERO, 4);
            b.putInt((int) p);
            return added(CodecId.ZERO);
        }
        memory.readPage(p, page, 0);
        if (cache != null && xorAllowed) {
            byte[] old = cache.contains(p) || cacheable ? cache.lookup(p) : null;
            if (old != null) {
                for (int i = 0; i < Wire.PAGE; i++) {
                    delta[i] = (byte) (page[i] ^ old[i]);
                }
                int n = LZ4.compress(delta, 0, Wire.PAGE, packed, 0, packed.length);
                cache.store(p, page);
                if (n + 2 < Wire.PAGE) {
                    ByteBuffer b = room(CodecId.XOR_LZ4, 6 + n);
                    b.putInt((int) p).putShort((short) n).put(packed, 0, n);
                    return added(CodecId.XOR_LZ4);
                }
                return plain(p);
            }
        }
        if (cache != null) {
            if (cacheable && xorAllowed) {
                cache.store(p, page);
            } else {
                cache.remove(p); // the target's copy changes: a stale cached base would corrupt a later delta
            }
        }
        return plain(p);
    }

    private CodecId plain(long p) throws IOException {
        if (lz4 && (incompressible < STREAK || ++skipped % SKIP == 0)) {
            int n = LZ4.compress(page, 0, Wire.PAGE, packed, 0, packed.length);
            if (n + 2 < Wire.PAGE) {
                incompressible = 0;
                ByteBuffer b = room(CodecId.LZ4, 6 + n);
                b.putInt((int) p).putShort((short) n).put(packed, 0, n);
                return added(CodecId.LZ4);
            }
            incompressible++;
        }
        ByteBuffer b = room(CodecId.RAW, 4 + Wire.PAGE);
        b.putInt((int) p).put(page);
        return added(CodecId.RAW);
    }

    private ByteBuffer room(CodecId c, int bytes) throws IOException {
        ByteBuffer b = batches[c.ordinal()];
        if (counts[c.ordinal()] == Wire.MAX_BATCH_PAGES || b.remaining() < Math.max(bytes, ENTRY_MAX)) {
            flush(c);
        }
        return b;
    }

    private CodecId added(CodecId c) {
        counts[c.ordinal()]++;
        pagesByCodec[c.ordinal()]++;
        return c;
    }

    /** Sends every open batch. */
    void flush() throws IOException {
        for (CodecId c : CodecId.values()) {
            flush(c);
        }
    }

    private void flush(CodecId c) throws IOException {
        int n = counts[c.ordinal()];
        if (n == 0) {
            return;
        }
        ByteBuffer b = batches[c.ordinal()];
        b.put(0, (byte) c.wire).putShort(1, (short) n);
        b.flip();
        sink.frame(b);
        b.clear();
        b.position(3);
        counts[c.ordinal()] = 0;
    }

    long pages(CodecId c) {
        return pagesByCodec[c.ordinal()];
    }

    long xorHits() {
        return cache == null ? 0 : cache.hits();
    }

    long xorMisses() {
        return cache == null ? 0 : cache.misses();
    }
}
