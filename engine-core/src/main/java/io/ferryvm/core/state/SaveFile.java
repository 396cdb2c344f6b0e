package io.ferryvm.core.state;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.MachineState;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongFunction;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.StreamingXXHash64;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * A whole VM in one file, like {@code virsh save}: definition, machine state and memory (zero pages
 * skipped, the rest LZ4-compressed per MiB chunk), with a checksum per chunk and one over the file.
 *
 * <pre>
 * header   "FERRYSAV" | u16 version | u16 flags | u32 page size | u64 memory size
 *          | u32 n, definition (n bytes JSON) | u32 m, machine state (m bytes, {@link StateCodec})
 * chunk    u8 1 | u32 chunk index (ascending) | 32-byte map of its non-zero pages
 *          | u8 codec (0 raw, 1 LZ4) | u32 stored length | u64 xxh64(pages, seed = index) | stored bytes
 * end      u8 0xFF | u32 chunks | u64 non-zero pages | u64 xxh64 of every byte before this field
 * </pre>
 *
 * Reading checks every length against its bound before allocating and verifies each chunk before it
 * is installed into fresh memory; a file that fails anywhere is refused and that memory freed, so the
 * VM it was meant for is untouched. Compression and decompression run on all cores.
 */
public final class SaveFile {
    public static final FormatVersion FORMAT = new FormatVersion("savefile", 1, 1);
    static final byte[] MAGIC = "FERRYSAV".getBytes(StandardCharsets.US_ASCII);
    static final int CHUNK_PAGES = 256;
    static final int CHUNK_BYTES = CHUNK_PAGES * GuestMemory.PAGE_SIZE;
    static final int MAX_DEFINITION = 1 << 20;
    static final int MAX_STATE = StateCodec.MAX_PAYLOAD + 256;
    private static final int REC_CHUNK = 1;
    private static final int REC_END = 0xFF;
    private static final int CODEC_RAW = 0;
    private static final int CODEC_LZ4 = 1;

    private static final LZ4Compressor LZ4 = LZ4Factory.fastestInstance().fastCompressor();
    private static final LZ4SafeDecompressor UNLZ4 = LZ4Factory.fastestInstance().safeDecompressor();
    private static final XXHash64 XXH = XXHashFactory.fastestInstance().hash64();
    private static final XXHashFactory XXF = XXHashFactory.fastestInstance();

    /** What a save or restore moved. */
    public record Stats(long memoryBytes, long nonZeroPages, long fileBytes, long nanos) {
        public double gigabytesPerSecond() {
            return nanos == 0 ? 0 : memoryBytes / (nanos / 1e9) / 1e9;
        }
    }

    /** A loaded save file: the definition (JSON), the machine state and the memory, which the caller now owns. */
    public record Loaded(byte[] definition, MachineState state, GuestMemory memory, Stats stats) {}

    private SaveFile() {}

    /**
     * Writes the file (to a temp name, renamed into place when complete). The memory must not change
     * meanwhile: pause the VM first.
     */
    public static Stats write(Path file, byte[] definition, MachineState state, GuestMemory memory) {
        long t0 = System.nanoTime();
        Path tmp = file.resolveSibling(".tmp-" + file.getFileName());
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, daemon("ferry-save"));
        memory.retain();
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE);
                HashingOutput hashing = new HashingOutput(java.nio.channels.Channels.newOutputStream(ch));
                DataOutputStream out = new DataOutputStream(new BufferedOutputStream(hashing, 1 << 20))) {
            byte[] st = StateCodec.encode(state);
            out.write(MAGIC);
            out.writeShort(FORMAT.current());
            out.writeShort(0);
            out.writeInt(GuestMemory.PAGE_SIZE);
            out.writeLong(memory.size());
            out.writeInt(definition.length);
            out.write(definition);
            out.writeInt(st.length);
            out.write(st);

            int chunks = (int) ((memory.pageCount() + CHUNK_PAGES - 1) / CHUNK_PAGES);
            ArrayDeque<Future<byte[]>> window = new ArrayDeque<>();
            int next = 0;
            int records = 0;
            long nonZero = 0;
            while (next < chunks || !window.isEmpty()) {
                while (next < chunks && window.size() < threads * 4) {
                    int c = next++;
                    window.add(pool.submit(() -> encodeChunk(memory, c)));
                }
                byte[] rec = window.poll().get();
                if (rec.length > 0) {
                    out.write(rec);
                    records++;
                    nonZero += pagesInRecord(rec);
                }
            }
            out.writeByte(REC_END);
            out.writeInt(records);
            out.writeLong(nonZero);
            out.flush();
            out.writeLong(hashing.hash());
            out.flush();
            ch.force(true);
            out.close();
            io.ferryvm.core.host.AtomicFiles.move(tmp, file);
            io.ferryvm.core.host.AtomicFiles.syncDirectory(file.toAbsolutePath().getParent());
            return new Stats(memory.size(), nonZero, Files.size(file), System.nanoTime() - t0);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CoreException(CoreException.Kind.IO, "cannot write save file " + file + ": " + e.getMessage(), e);
        } catch (ExecutionException e) {
            deleteQuietly(tmp);
            throw new CoreException(CoreException.Kind.IO, "cannot write save file " + file + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            deleteQuietly(tmp);
            Thread.currentThread().interrupt();
            throw new CoreException(CoreException.Kind.IO, "interrupted while writing save file " + file);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        } finally {
            stopPool(pool); // no task may still read the memory once the lease goes
            memory.release();
        }
    }

    /** One chunk record, or an empty array when every page of the chunk is zero. */
    private static byte[] encodeChunk(GuestMemory memory, int chunk) {
        long first = (long) chunk * CHUNK_PAGES;
        int n = (int) Math.min(CHUNK_PAGES, memory.pageCount() - first);
        byte[] map = new byte[32];
        byte[] raw = new byte[n * GuestMemory.PAGE_SIZE];
        int len = 0;
        for (int i = 0; i < n; i++) {
            if (!memory.isZeroPage(first + i)) {
                map[i >>> 3] |= (byte) (1 << (i & 7));
                memory.readPage(first + i, raw, len);
                len += GuestMemory.PAGE_SIZE;
            }
        }
        if (len == 0) {
            return new byte[0];
        }
        long hash = XXH.hash(raw, 0, len, chunk);
        byte[] comp = new byte[LZ4.maxCompressedLength(len)];
        int clen = LZ4.compress(raw, 0, len, comp, 0, comp.length);
        boolean useLz4 = clen < len;
        byte[] payload = useLz4 ? comp : raw;
        int plen = useLz4 ? clen : len;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 + 4 + 32 + 1 + 4 + 8 + plen);
        b.put((byte) REC_CHUNK).putInt(chunk).put(map).put((byte) (useLz4 ? CODEC_LZ4 : CODEC_RAW)).putInt(plen).putLong(hash);
        b.put(payload, 0, plen);
        return b.array();
    }

    private static int pagesInRecord(byte[] rec) {
        int n = 0;
        for (int i = 5; i < 5 + 32; i++) {
            n += Integer.bitCount(rec[i] & 0xFF);
        }
        return n;
    }

    /**
     * Reads and verifies a save file into fresh memory from allocator (called with the memory size once
     * the header is checked). On any failure the memory is freed and CORRUPT_STATE (or
     * UNSUPPORTED_VERSION, IO) is thrown naming the file, the offset and the fault.
     */
    public static Loaded read(Path file, LongFunction<GuestMemory> allocator) {
        long t0 = System.nanoTime();
        String where = "save file " + file;
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, daemon("ferry-restore"));
        GuestMemory memory = null;
        RuntimeException failure;
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            pool.shutdownNow();
            throw new CoreException(CoreException.Kind.IO, "cannot read " + where + ": " + e.getMessage(), e);
        }
        try (HashingInput hashing = new HashingInput(new BufferedInputStream(Files.newInputStream(file), 1 << 20));
                DataInputStream in = new DataInputStream(hashing)) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw corrupt(where, 0, "not a Ferry save file (bad magic)");
            }
            int version = in.readUnsignedShort();
            FORMAT.checkReadable(version, where);
            int flags = in.readUnsignedShort();
            if (flags != 0) {
                throw corrupt(where, hashing.position() - 2, "unknown flags 0x" + Integer.toHexString(flags));
            }
            int pageSize = in.readInt();
            if (pageSize != GuestMemory.PAGE_SIZE) {
                throw corrupt(where, hashing.position() - 4, "page size " + pageSize + ", expected " + GuestMemory.PAGE_SIZE);
            }
            long memSize = in.readLong();
            if (memSize < GuestMemory.MIN_SIZE || memSize > GuestMemory.MAX_SIZE || (memSize & (GuestMemory.PAGE_SIZE - 1)) != 0) {
                throw corrupt(where, hashing.position() - 8, "memory size " + memSize + " is not a valid guest size");
            }
            byte[] definition = readBlock(in, hashing, MAX_DEFINITION, "definition", where, fileSize);
            byte[] st = readBlock(in, hashing, MAX_STATE, "machine state", where, fileSize);
            MachineState state = StateCodec.decode(st, where);

            memory = allocator.apply(memSize);
            if (memory.size() != memSize) {
                throw new IllegalStateException("allocator returned " + memory.size() + " bytes for " + memSize);
            }
            int chunks = (int) ((memory.pageCount() + CHUNK_PAGES - 1) / CHUNK_PAGES);
            List<Future<?>> work = new ArrayList<>();
            int records = 0;
            long nonZero = 0;
            int lastChunk = -1;
            while (true) {
                long recAt = hashing.position();
                int type = in.readUnsignedByte();
                if (type == REC_END) {
                    break;
                }
                if (type != REC_CHUNK) {
                    throw corrupt(where, recAt, "unknown record type " + type);
                }
                int chunk = in.readInt();
                if (chunk <= lastChunk || chunk >= chunks) {
                    throw corrupt(where, recAt, "chunk index " + chunk + " out of order or beyond " + (chunks - 1));
                }
                lastChunk = chunk;
                byte[] map = new byte[32];
                in.readFully(map);
                int pagesInChunk = (int) Math.min(CHUNK_PAGES, memory.pageCount() - (long) chunk * CHUNK_PAGES);
                int pages = 0;
                for (int i = 0; i < CHUNK_PAGES; i++) {
                    if ((map[i >>> 3] & (1 << (i & 7))) != 0) {
                        if (i >= pagesInChunk) {
                            throw corrupt(where, recAt, "chunk " + chunk + " names page " + i + " beyond the end of memory");
                        }
                        pages++;
                    }
                }
                if (pages == 0) {
                    throw corrupt(where, recAt, "chunk " + chunk + " holds no page");
                }
                int rawLen = pages * GuestMemory.PAGE_SIZE;
                int codec = in.readUnsignedByte();
                int stored = in.readInt();
                long hash = in.readLong();
                int bound = codec == CODEC_RAW ? rawLen : codec == CODEC_LZ4 ? LZ4.maxCompressedLength(rawLen) : -1;
                if (bound < 0) {
                    throw corrupt(where, recAt, "chunk " + chunk + ": unknown codec " + codec);
                }
                if (stored <= 0 || stored > bound || (codec == CODEC_RAW && stored != rawLen)) {
                    throw corrupt(where, recAt, "chunk " + chunk + ": stored length " + stored + " invalid for " + pages + " pages");
                }
                if (hashing.position() + stored > fileSize) {
                    throw corrupt(where, recAt, "chunk " + chunk + " is truncated: " + stored + " bytes declared, "
                            + (fileSize - hashing.position()) + " left in the file");
                }
                byte[] data = new byte[stored];
                in.readFully(data);
                records++;
                nonZero += pages;
                GuestMemory target = memory;
                work.add(pool.submit(() -> installChunk(target, chunk, map, codec, data, rawLen, hash, where, recAt)));
                if (work.size() > threads * 8) {
                    work.remove(0).get();
                }
            }
            long endAt = hashing.position() - 1;
            int declaredRecords = in.readInt();
            long declaredPages = in.readLong();
            long expectHash = hashing.hash();
            long fileHash = in.readLong();
            if (in.read() != -1) {
                throw corrupt(where, hashing.position() - 1, "data after the end record");
            }
            if (declaredRecords != records || declaredPages != nonZero) {
                throw corrupt(where, endAt, "end record counts " + declaredRecords + " chunks / " + declaredPages
                        + " pages, the file holds " + records + " / " + nonZero);
            }
            if (fileHash != expectHash) {
                throw corrupt(where, endAt, "file checksum mismatch (the file was altered after it was written)");
            }
            for (Future<?> f : work) {
                f.get();
            }
            stopPool(pool);
            return new Loaded(definition, state, memory, new Stats(memSize, nonZero, fileSize, System.nanoTime() - t0));
        } catch (EOFException e) {
            failure = new CoreException(CoreException.Kind.CORRUPT_STATE, where + " is truncated (ends before its end record)", e);
        } catch (IOException e) {
            failure = new CoreException(CoreException.Kind.IO, "cannot read " + where + ": " + e.getMessage(), e);
        } catch (ExecutionException e) {
            failure = e.getCause() instanceof CoreException ce ? ce
                    : new CoreException(CoreException.Kind.CORRUPT_STATE, where + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new CoreException(CoreException.Kind.IO, "interrupted while reading " + where);
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            stopPool(pool);
        }
        // Only now that no installer runs can the staging memory go.
        closeQuietly(memory);
        throw failure;
    }

    private static void stopPool(ExecutorService pool) {
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES)) {
                throw new IllegalStateException("save-file workers did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Void installChunk(GuestMemory memory, int chunk, byte[] map, int codec, byte[] data, int rawLen,
            long hash, String where, long recAt) {
        byte[] raw;
        if (codec == CODEC_LZ4) {
            raw = new byte[rawLen];
            int n;
            try {
                n = UNLZ4.decompress(data, 0, data.length, raw, 0, rawLen);
            } catch (net.jpountz.lz4.LZ4Exception e) {
                throw corrupt(where, recAt, "chunk " + chunk + ": LZ4 data is corrupt");
            }
            if (n != rawLen) {
                throw corrupt(where, recAt, "chunk " + chunk + ": LZ4 data decodes to " + n + " bytes, expected " + rawLen);
            }
        } else {
            raw = data;
        }
        if (XXH.hash(raw, 0, rawLen, chunk) != hash) {
            throw corrupt(where, recAt, "chunk " + chunk + ": checksum mismatch");
        }
        long first = (long) chunk * CHUNK_PAGES;
        int off = 0;
        for (int i = 0; i < CHUNK_PAGES; i++) {
            if ((map[i >>> 3] & (1 << (i & 7))) != 0) {
                memory.writePage(first + i, raw, off);
                off += GuestMemory.PAGE_SIZE;
            }
        }
        return null;
    }

    private static byte[] readBlock(DataInputStream in, HashingInput pos, int max, String what, String where, long fileSize)
            throws IOException {
        long at = pos.position();
        int n = in.readInt();
        if (n < 0 || n > max) {
            throw corrupt(where, at, what + " length " + n + " outside 0.." + max);
        }
        if (at + 4 + n > fileSize) {
            throw corrupt(where, at, what + " of " + n + " bytes runs past the end of the file");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private static CoreException corrupt(String where, long offset, String what) {
        return new CoreException(CoreException.Kind.CORRUPT_STATE, where + " at byte " + offset + ": " + what);
    }

    private static void closeQuietly(GuestMemory m) {
        if (m != null) {
            m.close();
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // nothing else to do: the temp name is never read
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Counts and hashes every byte that passes. */
    private static final class HashingOutput extends FilterOutputStream {
        private final StreamingXXHash64 hash = XXF.newStreamingHash64(0);
        private final byte[] one = new byte[1];

        HashingOutput(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            one[0] = (byte) b;
            hash.update(one, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            hash.update(b, off, len);
        }

        long hash() {
            return hash.getValue();
        }
    }

    /** Counts and hashes every byte read. */
    private static final class HashingInput extends FilterInputStream {
        private final StreamingXXHash64 hash = XXF.newStreamingHash64(0);
        private final byte[] one = new byte[1];
        private long position;

        HashingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                one[0] = (byte) b;
                hash.update(one, 0, 1);
                position++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                hash.update(b, off, n);
                position += n;
            }
            return n;
        }

        long position() {
            return position;
        }

        long hash() {
            return hash.getValue();
        }
    }
}
