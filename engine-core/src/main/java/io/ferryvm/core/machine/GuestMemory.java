package io.ferryvm.core.machine;

import com.sun.jna.Pointer;
import io.ferryvm.core.CoreException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * A guest's physical memory: 4 KiB pages, off-heap, page-aligned, any size from 1 MiB up (no 2 GiB limit),
 * with a {@link DirtyLog}.
 *
 * <p>Implementation notes. Memory is a row of 1 GiB slabs. On Linux each slab is an anonymous private
 * mapping (mmap), so its NUMA policy is set with mbind before any page is touched and untouched pages
 * cost nothing; elsewhere slabs are aligned direct buffers. Accesses from this class (devices, the
 * migration receiver, tests) mark pages dirty through the shared, atomic path of the dirty log, always
 * <em>after</em> the write; vCPUs write through their {@link GuestContext}, which marks a vCPU-private
 * bitmap instead (see {@link DirtyLog}).
 *
 * <p>Lifetime: the memory is unmapped by {@link #close()} once every lease taken with {@link #retain()}
 * is released, so a migration thread still reading pages never touches an unmapped slab.
 */
public final class GuestMemory implements AutoCloseable {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    public static final long MIN_SIZE = 1L << 20;
    /** 1 TiB: far beyond any single host here, but a bound a corrupt size field cannot pass. */
    public static final long MAX_SIZE = 1L << 40;

    static final int SLAB_SHIFT = 30;
    static final long SLAB_SIZE = 1L << SLAB_SHIFT;
    static final long SLAB_MASK = SLAB_SIZE - 1;
    /** Pages per digest chunk: the unit of parallel hashing (1 MiB). */
    static final int CHUNK_PAGES = 256;

    private static final XXHash64 XXH = XXHashFactory.fastestInstance().hash64();

    private final long size;
    private final long pageCount;
    private final ByteBuffer[] slabs;
    private final Pointer[] mappings;
    private final long[] mappingLengths;
    private final MemoryPolicy policy;
    private final DirtyLog dirtyLog;
    private final AtomicInteger leases = new AtomicInteger(1);
    /** Bytes of guest memory this process holds mapped now, every host and migration included. */
    private static final java.util.concurrent.atomic.AtomicLong LIVE = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    /** Set before the slabs are unmapped: shared-path accesses after it throw instead of faulting. */
    private volatile boolean unmapped;

    private GuestMemory(long size, MemoryPolicy policy, boolean prefault) {
        this.size = size;
        this.pageCount = size >>> PAGE_SHIFT;
        this.policy = policy;
        int slabCount = (int) ((size + SLAB_SIZE - 1) >>> SLAB_SHIFT);
        this.slabs = new ByteBuffer[slabCount];
        boolean nativeMaps = LinuxSys.available();
        this.mappings = nativeMaps ? new Pointer[slabCount] : null;
        this.mappingLengths = new long[slabCount];
        try {
            for (int i = 0; i < slabCount; i++) {
                long len = Math.min(SLAB_SIZE, size - ((long) i << SLAB_SHIFT));
                mappingLengths[i] = len;
                slabs[i] = nativeMaps ? mapSlab(i, len, prefault) : heapSlab(len, prefault);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            unmapAll();
            throw e;
        }
        this.dirtyLog = new DirtyLog(pageCount);
        LIVE.addAndGet(size);
    }

    /**
     * Guest memory this process holds now (allocated and not yet unmapped): a leak check for hosts, e.g.
     * after a failed incoming migration it must fall back to what the host's active VMs use.
     */
    public static long liveBytes() {
        return LIVE.get();
    }

    /**
     * Allocates zeroed guest memory. {@code prefault} populates every page up front; a migration target
     * does not: it populates each 1 MiB chunk when the first data for it arrives ({@link #populate}), so
     * pages that arrive as zeros cost neither time nor host memory.
     */
    public static GuestMemory allocate(long size, MemoryPolicy policy, boolean prefault) {
        if (size < MIN_SIZE || size > MAX_SIZE || (size & (PAGE_SIZE - 1)) != 0) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC,
                    "guest memory size " + size + " bytes must be a multiple of 4 KiB between 1 MiB and 1 TiB");
        }
        if (policy.mode() != MemoryPolicy.Mode.DEFAULT && !LinuxSys.available()) {
            throw new CoreException(CoreException.Kind.NATIVE,
                    "memory policy " + policy + " needs Linux mbind, not available on this platform");
        }
        return new GuestMemory(size, policy, prefault);
    }

    public static GuestMemory allocate(long size) {
        return allocate(size, MemoryPolicy.DEFAULT, false);
    }

    private ByteBuffer mapSlab(int index, long len, boolean prefault) {
        LinuxSys.Libc libc = LinuxSys.libc();
        Pointer p = libc.mmap(Pointer.NULL, len, LinuxSys.PROT_READ | LinuxSys.PROT_WRITE,
                LinuxSys.MAP_PRIVATE | LinuxSys.MAP_ANONYMOUS | LinuxSys.MAP_NORESERVE, -1, 0);
        if (p == null || Pointer.nativeValue(p) == -1L) {
            throw new CoreException(CoreException.Kind.RESOURCES,
                    "mmap of " + len + " bytes for guest memory slab " + index + " failed, errno " + LinuxSys.lastError());
        }
        mappings[index] = p;
        if (len >= (64L << 20)) {
            libc.madvise(p, len, LinuxSys.MADV_HUGEPAGE); // advisory: fewer TLB misses on page walks
        }
        if (policy.mode() != MemoryPolicy.Mode.DEFAULT) {
            // Before first touch: pages are then allocated on the policy's nodes, no migration needed.
            long rc = LinuxSys.mbind(p, len, policy.linuxMode(), policy.nodeMask(), LinuxSys.MPOL_MF_STRICT);
            if (rc != 0) {
                throw new CoreException(CoreException.Kind.NATIVE,
                        "mbind(" + policy + ") of guest memory slab " + index + " failed, errno " + LinuxSys.lastError()
                                + " (is every node online and holding memory?)");
            }
        }
        ByteBuffer buf = p.getByteBuffer(0, len).order(ByteOrder.LITTLE_ENDIAN);
        if (prefault && libc.madvise(p, len, LinuxSys.MADV_POPULATE_WRITE) != 0) {
            touchEveryPage(buf);
        }
        return buf;
    }

    private static ByteBuffer heapSlab(long len, boolean prefault) {
        ByteBuffer raw = ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE, len + PAGE_SIZE));
        ByteBuffer buf = raw.alignedSlice(PAGE_SIZE).limit((int) len).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (prefault) {
            touchEveryPage(buf);
        }
        return buf;
    }

    private static void touchEveryPage(ByteBuffer buf) {
        for (int off = 0; off < buf.capacity(); off += PAGE_SIZE) {
            buf.put(off, (byte) 0);
        }
    }

    public long size() {
        return size;
    }

    public long pageCount() {
        return pageCount;
    }

    public MemoryPolicy policy() {
        return policy;
    }

    public DirtyLog dirtyLog() {
        return dirtyLog;
    }

    // ---- raw access (no dirty marking): used by GuestContext, which marks its own bitmap ----

    ByteBuffer slab(long addr) {
        return slabs[(int) (addr >>> SLAB_SHIFT)];
    }

    static int offset(long addr) {
        return (int) (addr & SLAB_MASK);
    }

    void checkRange(long addr, long len) {
        checkMapped();
        if (addr < 0 || len < 0 || addr + len > size || addr + len < 0) {
            throw new IndexOutOfBoundsException("guest address range [" + addr + ", +" + len + ") outside 0.." + size);
        }
    }

    private void checkPage(long page) {
        checkMapped();
        if (page < 0 || page >= pageCount) {
            throw new IndexOutOfBoundsException("guest page " + page + " outside 0.." + (pageCount - 1));
        }
    }

    // ---- shared access path: every write marks its page dirty after the write ----

    public byte getByte(long addr) {
        checkRange(addr, 1);
        return slab(addr).get(offset(addr));
    }

    public void putByte(long addr, byte value) {
        checkRange(addr, 1);
        slab(addr).put(offset(addr), value);
        dirtyLog.markShared(addr >>> PAGE_SHIFT);
    }

    /** Reads a little-endian long at an 8-byte-aligned address. */
    public long getLong(long addr) {
        checkAligned(addr);
        return slab(addr).getLong(offset(addr));
    }

    /** Writes a little-endian long at an 8-byte-aligned address (never spans two pages). */
    public void putLong(long addr, long value) {
        checkAligned(addr);
        slab(addr).putLong(offset(addr), value);
        dirtyLog.markShared(addr >>> PAGE_SHIFT);
    }

    private void checkAligned(long addr) {
        if ((addr & 7) != 0) {
            throw new IllegalArgumentException("unaligned 8-byte guest access at " + addr);
        }
        checkRange(addr, 8);
    }

    /** Copies bytes out of guest memory; the range may span pages and slabs. */
    public void read(long addr, byte[] dst, int off, int len) {
        checkRange(addr, len);
        while (len > 0) {
            int chunk = (int) Math.min(len, SLAB_SIZE - (addr & SLAB_MASK));
            slab(addr).get(offset(addr), dst, off, chunk);
            addr += chunk;
            off += chunk;
            len -= chunk;
        }
    }

    /** Copies bytes into guest memory and marks every page touched dirty (after the copy). */
    public void write(long addr, byte[] src, int off, int len) {
        checkRange(addr, len);
        if (len == 0) {
            return;
        }
        long first = addr >>> PAGE_SHIFT;
        long last = (addr + len - 1) >>> PAGE_SHIFT;
        while (len > 0) {
            int chunk = (int) Math.min(len, SLAB_SIZE - (addr & SLAB_MASK));
            slab(addr).put(offset(addr), src, off, chunk);
            addr += chunk;
            off += chunk;
            len -= chunk;
        }
        for (long p = first; p <= last; p++) {
            dirtyLog.markShared(p);
        }
    }

    public void readPage(long page, byte[] dst, int off) {
        checkPage(page);
        long addr = page << PAGE_SHIFT;
        slab(addr).get(offset(addr), dst, off, PAGE_SIZE);
    }

    /** Copies one page into dst at its position, advancing it. */
    public void readPage(long page, ByteBuffer dst) {
        checkPage(page);
        long addr = page << PAGE_SHIFT;
        dst.put(slab(addr).slice(offset(addr), PAGE_SIZE));
    }

    public void writePage(long page, byte[] src, int off) {
        checkPage(page);
        long addr = page << PAGE_SHIFT;
        slab(addr).put(offset(addr), src, off, PAGE_SIZE);
        dirtyLog.markShared(page);
    }

    /** Copies one page from src at its position, advancing it. */
    public void writePage(long page, ByteBuffer src) {
        checkPage(page);
        if (src.remaining() < PAGE_SIZE) {
            throw new IllegalArgumentException("page source has " + src.remaining() + " bytes, needs " + PAGE_SIZE);
        }
        long addr = page << PAGE_SHIFT;
        ByteBuffer s = src.slice(src.position(), PAGE_SIZE);
        slab(addr).put(offset(addr), s, 0, PAGE_SIZE);
        src.position(src.position() + PAGE_SIZE);
        dirtyLog.markShared(page);
    }

    /** Zeroes one page (a zero-page record from a migration stream or a save file). */
    public void zeroPage(long page) {
        checkPage(page);
        long addr = page << PAGE_SHIFT;
        ByteBuffer s = slab(addr);
        int o = offset(addr);
        for (int i = 0; i < PAGE_SIZE; i += 8) {
            s.putLong(o + i, 0L);
        }
        dirtyLog.markShared(page);
    }

    /** A read-only view of one page, valid while this memory is retained. */
    public ByteBuffer pageView(long page) {
        checkPage(page);
        long addr = page << PAGE_SHIFT;
        return slab(addr).slice(offset(addr), PAGE_SIZE).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** True when every byte of the page is zero. */
    public boolean isZeroPage(long page) {
        checkPage(page);
        long addr = page << PAGE_SHIFT;
        return isZero(slab(addr), offset(addr));
    }

    static boolean isZero(ByteBuffer s, int o) {
        // Four accumulators per 64-byte line keep the loads independent; exit at the first non-zero line.
        for (int i = 0; i < PAGE_SIZE; i += 64) {
            long a = s.getLong(o + i) | s.getLong(o + i + 8);
            long b = s.getLong(o + i + 16) | s.getLong(o + i + 24);
            long c = s.getLong(o + i + 32) | s.getLong(o + i + 40);
            long d = s.getLong(o + i + 48) | s.getLong(o + i + 56);
            if ((a | b | c | d) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Finds pages that hold zeros without reading them: sets bit i of {@code bits} (and clears every other
     * bit of the first {@code count}) when page {@code fromPage + i} is backed by nothing on the host. On
     * Linux that is a page of the private anonymous mapping that is neither present nor swapped in
     * {@code /proc/self/pagemap}: never written, or discarded, so it reads as zeros. A swapped-out page holds
     * data and is never reported. Returns false, with the bits clear, where this cannot be told (direct-buffer
     * slabs, no pagemap): callers then look at the bytes. Costs 8 bytes of pagemap per page and faults nothing
     * in, where reading an untouched page would map it.
     *
     * <p>Concurrent writers: a page written after its entry was read may hold data already. A migration uses
     * this under the same argument as a read of the page: the write marks the page dirty afterwards, so the
     * next harvest sends it again.
     */
    public boolean untouchedPages(long fromPage, int count, long[] bits) {
        checkPageRange(fromPage, count);
        if (bits.length < (count + 63) >>> 6) {
            throw new IllegalArgumentException(count + " pages need " + ((count + 63) >>> 6) + " words, got " + bits.length);
        }
        java.util.Arrays.fill(bits, 0, (count + 63) >>> 6, 0L);
        if (mappings == null || !Pagemap.available()) {
            return false;
        }
        for (int done = 0; done < count;) {
            long addr = (fromPage + done) << PAGE_SHIFT;
            int n = (int) Math.min(count - done, (SLAB_SIZE - (addr & SLAB_MASK)) >>> PAGE_SHIFT);
            Pointer slab = mappings[(int) (addr >>> SLAB_SHIFT)];
            if (slab == null || !Pagemap.markUnbacked(Pointer.nativeValue(slab) + (addr & SLAB_MASK), n, bits, done)) {
                java.util.Arrays.fill(bits, 0, (count + 63) >>> 6, 0L);
                return false;
            }
            done += n;
        }
        return true;
    }

    /**
     * Backs the pages [fromPage, fromPage + count) with host memory now, in one call per slab (Linux
     * MADV_POPULATE_WRITE, under the memory's NUMA policy), so the writes that follow take no first-touch
     * fault per page. Contents do not change. Returns false where the platform cannot (a kernel before 5.14):
     * the pages then fault in on first write. Direct-buffer slabs are backed from the start.
     */
    public boolean populate(long fromPage, long count) {
        checkPageRange(fromPage, count);
        if (mappings == null) {
            return true;
        }
        boolean ok = true;
        for (long done = 0; done < count;) {
            long addr = (fromPage + done) << PAGE_SHIFT;
            long len = Math.min((count - done) << PAGE_SHIFT, SLAB_SIZE - (addr & SLAB_MASK));
            Pointer slab = mappings[(int) (addr >>> SLAB_SHIFT)];
            if (slab == null || LinuxSys.libc().madvise(slab.share(addr & SLAB_MASK), len, LinuxSys.MADV_POPULATE_WRITE) != 0) {
                ok = false;
            }
            done += len >>> PAGE_SHIFT;
        }
        return ok;
    }

    private void checkPageRange(long fromPage, long count) {
        checkMapped();
        if (fromPage < 0 || count < 0 || fromPage + count > pageCount) {
            throw new IndexOutOfBoundsException("pages [" + fromPage + ", +" + count + ") outside 0.." + pageCount);
        }
    }

    /** Counts zero pages in [fromPage, toPage). */
    public long countZeroPages(long fromPage, long toPage) {
        checkPage(fromPage);
        if (toPage > pageCount || toPage < fromPage) {
            throw new IndexOutOfBoundsException("page range [" + fromPage + ", " + toPage + ") outside 0.." + pageCount);
        }
        long n = 0;
        for (long p = fromPage; p < toPage; p++) {
            long addr = p << PAGE_SHIFT;
            if (isZero(slab(addr), offset(addr))) {
                n++;
            }
        }
        return n;
    }

    /**
     * xxHash64 digest of all guest memory: the hash of the per-MiB chunk hashes, so both ends of a
     * migration compute it in parallel and agree byte for byte. Callers pause writers first if they want
     * a stable value.
     */
    public long digest() {
        int chunks = (int) ((pageCount + CHUNK_PAGES - 1) / CHUNK_PAGES);
        long[] hashes = chunkDigests(0, chunks);
        ByteBuffer all = ByteBuffer.allocate(hashes.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long h : hashes) {
            all.putLong(h);
        }
        return XXH.hash(all.array(), 0, all.capacity(), size);
    }

    /** Digests of the 1 MiB chunks [fromChunk, toChunk), computed in parallel. */
    public long[] chunkDigests(int fromChunk, int toChunk) {
        long[] out = new long[toChunk - fromChunk];
        checkMapped();
        IntStream.range(fromChunk, toChunk).parallel().forEach(c -> {
            long addr = (long) c * CHUNK_PAGES * PAGE_SIZE;
            int len = (int) Math.min((long) CHUNK_PAGES * PAGE_SIZE, size - addr);
            out[c - fromChunk] = XXH.hash(slab(addr), offset(addr), len, c);
        });
        return out;
    }

    /** Digest of one 1 MiB chunk, on the calling thread (the same value {@link #chunkDigests} gives). */
    public long chunkDigest(int chunk) {
        long addr = chunkAddress(chunk);
        return XXH.hash(slab(addr), offset(addr), chunkLength(addr), chunk);
    }

    /**
     * CRC32C of one 1 MiB chunk's bytes: about 1.5x cheaper than {@link #chunkDigest} here (CRC32C is a
     * CPU instruction), for callers that compare chunks and can live with 32 bits per MiB.
     */
    public long chunkCrc32c(int chunk) {
        long addr = chunkAddress(chunk);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(slab(addr).slice(offset(addr), chunkLength(addr)));
        return crc.getValue();
    }

    private long chunkAddress(int chunk) {
        checkMapped();
        long addr = (long) chunk * CHUNK_PAGES * PAGE_SIZE;
        if (chunk < 0 || addr >= size) {
            throw new IndexOutOfBoundsException("chunk " + chunk + " outside the guest's " + (size + (CHUNK_PAGES * PAGE_SIZE) - 1) / ((long) CHUNK_PAGES * PAGE_SIZE) + " chunks");
        }
        return addr;
    }

    /** Bytes of the chunk at addr: a whole MiB but for the last chunk of an odd-sized guest. */
    private int chunkLength(long addr) {
        return (int) Math.min((long) CHUNK_PAGES * PAGE_SIZE, size - addr);
    }

    public static int chunkPages() {
        return CHUNK_PAGES;
    }

    // ---- lifetime ----

    /** Takes a lease: the memory stays mapped until every lease and the owner's reference are released. */
    public GuestMemory retain() {
        while (true) {
            if (closed) {
                throw new IllegalStateException("guest memory already closed");
            }
            int n = leases.get();
            if (n <= 0) {
                throw new IllegalStateException("guest memory already released");
            }
            if (leases.compareAndSet(n, n + 1)) {
                return this;
            }
        }
    }

    public void release() {
        if (leases.decrementAndGet() == 0) {
            closed = true;
            unmapAll();
            LIVE.addAndGet(-size);
        }
    }

    /** Releases the owner's reference; the slabs are unmapped when the last lease goes. */
    @Override
    public void close() {
        if (!closed) {
            synchronized (this) {
                if (!closed) {
                    closed = true;
                    release();
                }
            }
        }
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkMapped() {
        if (unmapped) {
            throw new IllegalStateException("guest memory was released (take a lease with retain() while using it)");
        }
    }

    private void unmapAll() {
        unmapped = true;
        if (mappings != null) {
            for (int i = 0; i < mappings.length; i++) {
                if (mappings[i] != null) {
                    LinuxSys.libc().munmap(mappings[i], mappingLengths[i]);
                    mappings[i] = null;
                }
            }
        }
    }

    /** Native address of a guest address (Linux mappings only), for mempolicy checks. */
    Pointer nativeAddress(long addr) {
        if (mappings == null || mappings[(int) (addr >>> SLAB_SHIFT)] == null) {
            return null;
        }
        return mappings[(int) (addr >>> SLAB_SHIFT)].share(addr & SLAB_MASK);
    }

    /**
     * The NUMA node that holds the page at addr, touching nothing (the page must already be faulted in),
     * or -1 where the platform cannot tell.
     */
    public int nodeOf(long addr) {
        checkRange(addr, 1);
        Pointer p = nativeAddress(addr);
        return p == null ? -1 : LinuxSys.nodeOfAddress(p);
    }

    /** The mempolicy mode the kernel applies at addr (Linux MPOL_* value), or -1 where unknown. */
    public int kernelPolicyOf(long addr) {
        checkRange(addr, 1);
        Pointer p = nativeAddress(addr);
        return p == null ? -1 : LinuxSys.policyOfAddress(p, new long[LinuxSys.NODE_MASK_BITS / 64]);
    }

    @Override
    public String toString() {
        return "GuestMemory[" + (size >>> 20) + " MiB, " + policy + "]";
    }
}
