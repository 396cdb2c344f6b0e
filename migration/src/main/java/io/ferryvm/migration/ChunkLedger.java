package io.ferryvm.migration;

import io.ferryvm.core.machine.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Per-MiB digests of guest memory, kept up to date while pages move, so that finish can compare the
 * whole memory of both sides without hashing gigabytes inside the downtime.
 *
 * <p>Implementation notes. A chunk's digest is 0 when the chunk is all zeros, else, from protocol v4,
 * the CRC32C of its bytes ({@link GuestMemory#chunkCrc32c}: a CPU instruction, 41 ms per GiB on one
 * core here against 58 ms for xxHash64, which matters because both sides hash every MiB they move), and
 * on a v3 stream engine-core's xxHash64 ({@link GuestMemory#chunkDigest}); the memory digest is xxHash64
 * over the chunk digests. Source: a chunk is re-hashed by its channel right after the chunk's dirty pages were
 * encoded. That hash is of memory after the harvest that listed those pages; a guest write after it
 * lands in a later harvest, which re-hashes the chunk again. So once the guest is paused and the final
 * pages are sent, every digest is that of the paused memory, with only the last round's chunks hashed
 * inside the downtime. Target: only the receiver writes the memory, so it counts non-zero pages per
 * chunk (a chunk with none needs no reading and no host memory: its pages are never written, and the
 * chunk is populated in one call when its first non-zero page arrives) and re-hashes a chunk it wrote
 * as soon as the channel's next chunk begins (the source flushes each chunk's frames before the next
 * chunk's, so the bytes are still in cache), and at each SYNC whatever is still stale (a page arriving
 * for a chunk already hashed marks it stale again). Each chunk belongs to one channel (pages are
 * partitioned by chunk), so no slot is written by two threads.
 */
final class ChunkLedger {
    private static final XXHash64 XXH = XXHashFactory.fastestInstance().hash64();

    private final GuestMemory memory;
    private final boolean crc32c;
    private final int chunks;
    private final long[] hashes;
    // Target only: a bit per page that holds non-zero bytes, and per chunk the count of such pages.
    private final long[] nonZero;
    private final int[] nonZeroCount;
    private final boolean[] stale;
    private final boolean[] populated;

    /** Digests as protocol version defines them (v4: CRC32C per MiB, v3: xxHash64). */
    ChunkLedger(GuestMemory memory, int version) {
        this.memory = memory;
        this.crc32c = version >= 4;
        this.chunks = chunkCount(memory.pageCount());
        this.hashes = new long[chunks];
        this.nonZero = new long[(int) ((memory.pageCount() + 63) >>> 6)];
        this.nonZeroCount = new int[chunks];
        this.stale = new boolean[chunks];
        this.populated = new boolean[chunks];
    }

    static int chunkCount(long pageCount) {
        return (int) ((pageCount + Wire.CHUNK_PAGES - 1) / Wire.CHUNK_PAGES);
    }

    int chunks() {
        return chunks;
    }

    long hash(int chunk) {
        return hashes[chunk];
    }

    long[] hashes() {
        return hashes.clone();
    }

    int pagesIn(int chunk) {
        return (int) Math.min(Wire.CHUNK_PAGES, memory.pageCount() - (long) chunk * Wire.CHUNK_PAGES);
    }

    // ---- source ----

    /** Source: re-hash chunk from memory; knownZero when every page of it was just sent as a zero page. */
    void refreshFromMemory(int chunk, boolean knownZero) {
        if (knownZero) {
            hashes[chunk] = 0;
            return;
        }
        long first = (long) chunk * Wire.CHUNK_PAGES;
        int n = pagesIn(chunk);
        boolean zero = true;
        for (int i = 0; i < n && zero; i++) {
            zero = memory.isZeroPage(first + i);
        }
        hashes[chunk] = zero ? 0 : digest(chunk);
    }

    // ---- target ----

    /** Target: the page now holds content (zero: all zeros); returns false if a zero page needs no write. */
    boolean installed(long page, boolean zero) {
        int w = (int) (page >>> 6);
        long bit = 1L << page;
        int chunk = (int) (page / Wire.CHUNK_PAGES);
        boolean was = (nonZero[w] & bit) != 0;
        stale[chunk] = true;
        if (zero) {
            if (was) {
                nonZero[w] &= ~bit;
                nonZeroCount[chunk]--;
            }
            return was;
        }
        if (!was) {
            nonZero[w] |= bit;
            nonZeroCount[chunk]++;
        }
        return true;
    }

    /** Target: before the first non-zero page of a chunk is written, back the whole chunk in one call. */
    void populateFor(long page) {
        int chunk = (int) (page / Wire.CHUNK_PAGES);
        if (!populated[chunk]) {
            populated[chunk] = true;
            memory.populate((long) chunk * Wire.CHUNK_PAGES, pagesIn(chunk));
        }
    }

    /** Target: the whole memory was backed at prepare ({@link MigrationRequest#preallocate}). */
    void markAllPopulated() {
        java.util.Arrays.fill(populated, true);
    }

    /** Target: re-hash one chunk if pages were installed in it since its last hash. */
    void refreshChunk(int chunk) {
        if (stale[chunk]) {
            stale[chunk] = false;
            hashes[chunk] = nonZeroCount[chunk] == 0 ? 0 : digest(chunk);
        }
    }

    /** Target, at a SYNC: re-hash the channel's chunks written since the last one. */
    void refreshStale(int channel, int channels) {
        for (int c = channel; c < chunks; c += channels) {
            refreshChunk(c);
        }
    }

    private long digest(int chunk) {
        return crc32c ? memory.chunkCrc32c(chunk) : memory.chunkDigest(chunk);
    }

    /** The whole-memory digest of a digest array. */
    static long combine(long[] chunkHashes, long memorySize) {
        ByteBuffer all = ByteBuffer.allocate(chunkHashes.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long h : chunkHashes) {
            all.putLong(h);
        }
        return XXH.hash(all.array(), 0, all.capacity(), memorySize);
    }
}
