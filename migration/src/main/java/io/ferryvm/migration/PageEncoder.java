package io.ferryvm.migration;

import io.ferryvm.core.machine.DirtyBitmap;
import io.ferryvm.core.machine.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * One channel's page encoder: picks a codec per page and collects pages into one open batch per codec,
 * each flushed as a RAM frame when full, at the end of each chunk, or when the caller flushes.
 *
 * <p>Implementation notes. Per chunk, when many of its pages are dirty, the host first says which pages
 * it never backed ({@link GuestMemory#untouchedPages}): those go as zero pages without being read (a read
 * would fault each one in). Per remaining page: a zero page costs a scan and 4 bytes; otherwise, without
 * the XOR cache, LZ4 reads the page straight from guest memory into the direct LZ4 batch, and a page that
 * does not shrink is copied once into the direct RAW batch, whose bytes are what the CRC covers and what
 * the socket sends (no copy through the heap). The guest may write a page while it is compressed or
 * copied: what goes out is then a mix of old and new bytes, still one well-formed page, and the write
 * marks the page dirty afterwards, so the next round sends it again; the final round runs with the guest
 * paused. With the XOR cache the page is copied first (the cache must hold exactly what was sent), then
 * XOR-delta against the cached last-sent copy when there is one, else LZ4, else raw. After 64
 * incompressible pages in a row only every 16th page is tried until one shrinks: random data then costs
 * almost no compression time. Only the owning channel's thread uses an encoder; {@link #close} (on that
 * thread) frees the native compressor state.
 */
final class PageEncoder implements AutoCloseable {
    /** Receives one finished RAM frame payload. */
    @FunctionalInterface
    interface Sink {
        void frame(ByteBuffer payload) throws IOException;
    }

    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();
    private static final int LZ4_BOUND = LZ4.fastCompressor().maxCompressedLength(Wire.PAGE);
    private static final int ENTRY_MAX = 4 + 2 + Wire.PAGE;
    private static final int STREAK = 64;
    private static final int SKIP = 16;
    /** A chunk with at least this many dirty pages asks the host which of them it never backed (one pagemap read). */
    static final int UNTOUCHED_QUERY_MIN = 16;

    private final GuestMemory memory;
    private final boolean lz4;
    private final XorCache cache;
    private final Sink sink;
    private final ByteBuffer[] batches = new ByteBuffer[CodecId.values().length];
    private final int[] counts = new int[CodecId.values().length];
    private final long[] pagesByCodec = new long[CodecId.values().length];
    private final byte[] page = new byte[Wire.PAGE];
    private final byte[] delta = new byte[Wire.PAGE];
    private final byte[] packed = new byte[LZ4_BOUND];
    private final long[] dirty = new long[Wire.CHUNK_PAGES];
    private final long[] untouched = new long[Wire.CHUNK_PAGES / 64];
    private LZ4Compressor compressor;
    private int incompressible;
    private int skipped;
    private int lastZeros;
    private long untouchedPages;
    private long lz4Attempts;

    PageEncoder(GuestMemory memory, Compression compression, long xorCacheBytes, Sink sink) {
        this.memory = memory;
        this.lz4 = compression != Compression.NONE;
        this.cache = compression == Compression.XOR_LZ4 ? new XorCache(xorCacheBytes) : null;
        this.sink = sink;
        for (CodecId c : CodecId.values()) {
            // Room for one LZ4 entry at its bound past a nearly full batch; a frame never exceeds MAX_RAM_BYTES.
            ByteBuffer b = ByteBuffer.allocateDirect(Wire.MAX_RAM_BYTES + LZ4_BOUND);
            b.position(3);
            batches[c.ordinal()] = b;
        }
    }

    /**
     * Encodes the pages of bm in the chunk [from, from + n), then flushes every open batch, so all frames
     * of this chunk travel before any frame of the channel's next chunk (the target hashes a chunk once a
     * later chunk begins). Returns the pages encoded; {@link #lastChunkZeros} says how many went as zero.
     */
    int encodeChunk(DirtyBitmap bm, long from, int n, boolean cacheable, boolean xorAllowed) throws IOException {
        int k = 0;
        for (long p = bm.nextDirty(from, from + n); p >= 0; p = bm.nextDirty(p + 1, from + n)) {
            dirty[k++] = p;
        }
        lastZeros = 0;
        if (k == 0) {
            return 0;
        }
        boolean known = k >= UNTOUCHED_QUERY_MIN && memory.untouchedPages(from, n, untouched);
        int zeros = 0;
        for (int i = 0; i < k; i++) {
            long p = dirty[i];
            int bit = (int) (p - from);
            CodecId c;
            if (known && (untouched[bit >>> 6] & (1L << bit)) != 0) {
                untouchedPages++;
                c = zero(p);
            } else {
                c = encode(p, cacheable, xorAllowed);
            }
            if (c == CodecId.ZERO) {
                zeros++;
            }
        }
        flush();
        lastZeros = zeros;
        return k;
    }

    /** Zero pages among those of the last {@link #encodeChunk}. */
    int lastChunkZeros() {
        return lastZeros;
    }

    /**
     * Encodes page p into its batch. cacheable: the page was re-dirtied, worth keeping for XOR-delta;
     * xorAllowed: the codec may be used now (not in post-copy, not on a v1 stream).
     */
    CodecId encode(long p, boolean cacheable, boolean xorAllowed) throws IOException {
        if (cache != null) {
            return encodeCached(p, cacheable, xorAllowed);
        }
        if (memory.isZeroPage(p)) {
            return zero(p);
        }
        if (lz4 && tryCompress()) {
            ByteBuffer b = room(CodecId.LZ4, 6 + LZ4_BOUND);
            int at = b.position();
            int n = compressor().compress(memory.pageView(p), 0, Wire.PAGE, b, at + 6, LZ4_BOUND);
            if (n + 2 < Wire.PAGE) {
                incompressible = 0;
                b.putInt(at, (int) p).putShort(at + 4, (short) n).position(at + 6 + n);
                return added(CodecId.LZ4);
            }
            incompressible++;
        }
        ByteBuffer b = room(CodecId.RAW, 4 + Wire.PAGE);
        b.putInt((int) p);
        memory.readPage(p, b);
        return added(CodecId.RAW);
    }

    private CodecId zero(long p) throws IOException {
        if (cache != null) {
            cache.remove(p);
        }
        room(CodecId.ZERO, 4).putInt((int) p);
        return added(CodecId.ZERO);
    }

    private boolean tryCompress() {
        boolean attempt = incompressible < STREAK || ++skipped % SKIP == 0;
        if (attempt) {
            lz4Attempts++;
        }
        return attempt;
    }

    private LZ4Compressor compressor() {
        if (compressor == null) {
            compressor = newCompressor();
        }
        return compressor;
    }

    /** The native compressor that keeps its state between pages (no 16 KiB reset per page), else the fastest. */
    private static LZ4Compressor newCompressor() {
        try {
            return LZ4.fastResetCompressor();
        } catch (RuntimeException | LinkageError e) {
            return LZ4.fastCompressor();
        }
    }

    /** XOR-delta needs exactly what was sent: copy the page first, then pick a codec for the copy. */
    private CodecId encodeCached(long p, boolean cacheable, boolean xorAllowed) throws IOException {
        if (memory.isZeroPage(p)) {
            return zero(p);
        }
        memory.readPage(p, page, 0);
        if (xorAllowed) {
            byte[] old = cache.contains(p) || cacheable ? cache.lookup(p) : null;
            if (old != null) {
                for (int i = 0; i < Wire.PAGE; i++) {
                    delta[i] = (byte) (page[i] ^ old[i]);
                }
                int n = compressor().compress(delta, 0, Wire.PAGE, packed, 0, packed.length);
                cache.store(p, page);
                if (n + 2 < Wire.PAGE) {
                    ByteBuffer b = room(CodecId.XOR_LZ4, 6 + n);
                    b.putInt((int) p).putShort((short) n).put(packed, 0, n);
                    return added(CodecId.XOR_LZ4);
                }
                return plainCopy(p);
            }
        }
        if (cacheable && xorAllowed) {
            cache.store(p, page);
        } else {
            cache.remove(p); // the target's copy changes: a stale cached base would corrupt a later delta
        }
        return plainCopy(p);
    }

    private CodecId plainCopy(long p) throws IOException {
        if (lz4 && tryCompress()) {
            int n = compressor().compress(page, 0, Wire.PAGE, packed, 0, packed.length);
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
        if (counts[c.ordinal()] == Wire.MAX_BATCH_PAGES || b.position() + Math.max(bytes, ENTRY_MAX) > Wire.MAX_RAM_BYTES) {
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

    /** Pages sent as zero pages without being read: the host never backed them. */
    long untouchedPages() {
        return untouchedPages;
    }

    /** Pages LZ4 was run on (XOR-delta attempts not counted): after a streak of incompressible pages, few. */
    long lz4Attempts() {
        return lz4Attempts;
    }

    long xorHits() {
        return cache == null ? 0 : cache.hits();
    }

    long xorMisses() {
        return cache == null ? 0 : cache.misses();
    }

    /** Frees the native compressor state; on the encoding thread, between rounds (the next use makes a new one). */
    @Override
    public void close() {
        LZ4Compressor c = compressor;
        compressor = null;
        if (c instanceof AutoCloseable) {
            try {
                ((AutoCloseable) c).close();
            } catch (Exception ignored) {
                // nothing to recover: the state is gone either way
            }
        }
    }
}
