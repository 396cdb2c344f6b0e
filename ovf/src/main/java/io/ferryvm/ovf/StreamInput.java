package io.ferryvm.ovf;

import java.io.IOException;
import java.io.InputStream;

/** A forward-only reader that knows its byte position and turns a short read into a precise CORRUPT_DISK error. */
final class StreamInput {
    private final InputStream in;
    private final String source;
    private long position;

    StreamInput(InputStream in, String source) {
        this.in = in;
        this.source = source;
    }

    long position() {
        return position;
    }

    String source() {
        return source;
    }

    void readFully(byte[] b, int off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = in.read(b, off + done, len - done);
            if (n < 0) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": truncated at byte " + (position + done) + " (needed "
                        + len + " bytes at " + position + ")");
            }
            done += n;
        }
        position += len;
    }

    /** Reads up to len bytes; returns how many (less only at end of stream). */
    int readUpTo(byte[] b, int off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = in.read(b, off + done, len - done);
            if (n < 0) {
                break;
            }
            done += n;
        }
        position += done;
        return done;
    }

    void skipTo(long target) throws IOException {
        if (target < position) {
            throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": data at byte " + target + " lies behind the read position "
                    + position + " (not readable as a stream)");
        }
        long left = target - position;
        byte[] scratch = left > 0 ? new byte[(int) Math.min(left, 1 << 16)] : null;
        while (left > 0) {
            int n = in.read(scratch, 0, (int) Math.min(left, scratch.length));
            if (n < 0) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": truncated at byte " + (target - left) + " (skipping to "
                        + target + ")");
            }
            left -= n;
            position += n;
        }
    }

    /** Consumes and counts the rest of the stream. */
    long drain() throws IOException {
        byte[] scratch = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = in.read(scratch)) >= 0) {
            total += n;
        }
        position += total;
        return total;
    }
}
