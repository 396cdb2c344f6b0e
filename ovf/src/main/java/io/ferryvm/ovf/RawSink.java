package io.ferryvm.ovf;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A raw disk image being written: positional, thread-safe writes (grains may complete out of order), all-zero
 * blocks skipped so the file stays sparse, and the exact capacity set at the end.
 */
final class RawSink implements AutoCloseable {
    private static final byte[] ZERO = new byte[1 << 20];
    private final RandomAccessFile file;
    private final FileChannel ch;
    private final long capacity;
    private final AtomicLong written = new AtomicLong();

    RawSink(Path target, long capacity) throws IOException {
        this.file = new RandomAccessFile(target.toFile(), "rw");
        this.ch = file.getChannel();
        this.capacity = capacity;
    }

    static boolean allZero(byte[] b, int off, int len) {
        int done = 0;
        while (done < len) {
            int n = Math.min(len - done, ZERO.length);
            if (Arrays.mismatch(b, off + done, off + done + n, ZERO, 0, n) != -1) {
                return false;
            }
            done += n;
        }
        return true;
    }

    void write(long offset, byte[] data, int len) throws IOException {
        if (offset < 0 || offset + len > capacity) {
            throw new OvfException(OvfException.Kind.CORRUPT_DISK, "write of " + len + " bytes at " + offset + " beyond capacity " + capacity);
        }
        if (allZero(data, 0, len)) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, len);
        long pos = offset;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
        written.addAndGet(len);
    }

    /** Bytes of non-zero data written. */
    long written() {
        return written.get();
    }

    void finish() throws IOException {
        file.setLength(capacity);
        ch.force(true);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
